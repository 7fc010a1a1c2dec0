"""Command line: ``selfcheck run|assemble|sample|validate|checklist|sections|lab`` (also ``python -m selfcheck``)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from selfcheck import __version__
from selfcheck.errors import OutputError, ParamsError, SelfcheckError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="selfcheck",
        description="客户服务自查报告：由一期（年度、半年、季度或月）的数据生成 Word 报告。",
    )
    p.add_argument("--version", action="version", version=f"selfcheck {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="运行全部章节并生成 Word 报告")
    r.add_argument("params", type=Path, help="参数文件，例如 params/2026Q3.yaml")
    r.add_argument("--only", metavar="SECTION", help="只重新运行一个章节，其余章节沿用已保存结果")
    r.add_argument("--allow-partial", action="store_true", help="有章节失败时仍生成报告并标注")
    r.add_argument("--workers", type=int, default=None, help="并行执行的章节数（默认按 CPU 核数）")
    r.add_argument(
        "--engine",
        choices=("selfcheck", "papermill"),
        default=None,
        help="笔记本执行引擎：selfcheck（默认，预热内核池，每节一个新进程）"
        "或 papermill（每节冷启动内核）",
    )
    r.add_argument(
        "--wait", action="store_true", help="输出目录被另一运行占用时排队等待，而不是立即退出"
    )
    r.add_argument(
        "--no-layout",
        action="store_true",
        help="不用 LibreOffice 排版：目录暂无页码，不出 PDF (skip the layout pass)",
    )
    r.add_argument(
        "--force",
        action="store_true",
        help="与 --only 同用：即使 JupyterLab 中保存的本节结果晚于笔记本文件，也按笔记本重新运行并覆盖",
    )
    r.add_argument(
        "--branch",
        metavar="ID",
        default=None,
        help="集团参数文件：只运行该分支机构，再由其他机构已保存的结果重新生成集团报告",
    )
    r.add_argument(
        "--no-group",
        action="store_true",
        help="与 --branch 同用：只运行该机构，不重新生成集团报告",
    )
    r.add_argument(
        "--cluster",
        metavar="ADDRESS",
        default=None,
        help="集团参数文件：各分支机构的运行交给该 Dask 调度器（如 tcp://10.0.0.5:8786）",
    )
    r.add_argument(
        "--parallel",
        type=int,
        default=None,
        help="集团参数文件：本机同时运行的分支机构数（默认按 CPU 核数与可用内存）",
    )

    a = sub.add_parser(
        "assemble", help="由已保存的各章节结果重新生成 Word 报告（不运行笔记本，几秒内完成）"
    )
    a.add_argument("params", type=Path, help="参数文件，例如 params/2026Q3.yaml")
    a.add_argument(
        "--allow-partial", action="store_true", help="有章节结果为失败时仍生成报告并标注"
    )
    a.add_argument("--wait", action="store_true", help="输出目录被另一运行占用时排队等待")
    a.add_argument(
        "--no-layout",
        action="store_true",
        help="不用 LibreOffice 排版（约快 8 秒）：目录暂无页码，不出 PDF (skip the layout pass)",
    )

    s = sub.add_parser("sample", help="生成示例数据（本期及比较所需的之前各期，与本期同一类型）")
    s.add_argument(
        "--period",
        required=True,
        help="期间：2026（年度）、2026H1（半年）、2026Q3（季度）或 2026-07（月）",
    )
    s.add_argument("--scale", choices=("small", "default", "large"), default="default")
    s.add_argument("--out", type=Path, default=Path("data"), help="数据根目录（默认 data/）")
    s.add_argument(
        "--history",
        type=int,
        default=None,
        help="另外生成之前几期（缺省：季度 4、月 12、半年 4、年度 1）",
    )
    s.add_argument("--seed", type=int, default=2026)
    s.add_argument(
        "--branches",
        type=int,
        default=None,
        metavar="N",
        help="集团示例：N 个分支机构（1–60）各自一套数据，写到 <out>/b01/<期间>/ …，"
        "并写出可粘贴到参数文件的 <out>/branches.yaml；各分支规模与薄弱环节不同",
    )

    v = sub.add_parser("validate", help="校验本期数据并写出数据质量记录")
    v.add_argument("params", type=Path)
    v.add_argument("--wait", action="store_true", help="输出目录被另一运行占用时排队等待")

    sub.add_parser("sections", help="列出报告章节及其笔记本")

    c = sub.add_parser(
        "checklist",
        help="生成（或更新）本期自查检查表 <期间>_checklist.xlsx；已填写的内容保留",
    )
    c.add_argument("params", type=Path, help="参数文件，例如 params/2026Q3.yaml")
    c.add_argument(
        "--from", dest="previous", type=Path, default=None,
        help="作为起点的上期检查表（缺省：参数目录中上一期的检查表，如有）",
    )  # fmt: skip
    c.add_argument("--check", action="store_true", help="只读取并检查已填写的检查表，不改写")
    c.add_argument(
        "--export-definition", type=Path, metavar="FILE", default=None,
        help="把默认自查清单写到 FILE，供本单位修改（再在参数文件中写 checklist: FILE）",
    )  # fmt: skip

    n = sub.add_parser("new-period", help="由上一期生成新一期的参数、整改措施等文件")
    n.add_argument(
        "period",
        nargs="?",
        help="新期间：2027（年度）、2026H2（半年）、2026Q4（季度）或 2026-08（月）；"
        "省略时为 --from 所给参数文件的下一期（同一类型）",
    )
    n.add_argument(
        "--params-dir", type=Path, default=Path("params"), help="参数目录（默认 params/）"
    )
    n.add_argument("--from", dest="source", type=Path, default=None, help="作为模板的参数文件")

    pool = sub.add_parser(
        "pool",
        help="预热内核池：查看状态，--start 启动，--stop 停止（run 之后常驻，空闲 15 分钟自动退出；"
        "lab 打开期间一直保持）",
    )
    pool.add_argument("--stop", action="store_true", help="停止本环境的预热内核池")
    pool.add_argument("--start", action="store_true", help="现在启动（预热）本环境的内核池")

    lab = sub.add_parser("lab", help="在本环境中打开 JupyterLab（笔记本目录）")
    lab.add_argument("extra", nargs=argparse.REMAINDER, help="传给 jupyter lab 的其他参数")
    return p


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    parser = _parser()
    # `selfcheck lab --no-browser …`: JupyterLab's own options pass through untouched
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command != "lab":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == "lab":
        args.extra = [*unknown, *args.extra]
    try:
        if args.command == "assemble" or (args.command == "run" and args.engine != "papermill"):
            from selfcheck.execution.kernels import run_in_server

            # with a warm server about, the run is forked from it: nothing left to import
            code = run_in_server(sys.argv[1:] if argv is None else list(argv))
            if code is not None:
                return code
        return _dispatch(args)
    except SelfcheckError as e:
        print(f"错误：{e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
    except OSError as e:
        print(f"错误：{os_error_message(e)}", file=sys.stderr)
        return OutputError.exit_code
    except Exception:  # the last guard: a short message, the traceback in a log file
        print(f"错误：{crash_message(argv)}", file=sys.stderr)
        return INTERNAL_ERROR_EXIT


INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE


def os_error_message(e: OSError) -> str:
    """An OSError the code did not foresee, told with its path and what to do."""
    path = e.filename if e.filename is not None else None
    where = f"：{path}" if path is not None else ""
    if e.filename2 is not None:
        where += f" → {e.filename2}"
    if isinstance(e, (FileExistsError, NotADirectoryError)):
        advice = "路径上已有同名文件挡住了要创建的目录或文件，请移走它或在参数文件中改用其他路径。"
    elif isinstance(e, PermissionError):
        advice = (
            "没有读写权限，或文件正被其他程序（如 Word、Excel）打开；请关闭该文件或改用可写的位置。"
        )
    elif isinstance(e, FileNotFoundError):
        advice = "文件或目录不存在，请检查参数文件中的路径。"
    elif getattr(e, "errno", None) == 30:
        advice = "该位置只读，请在参数文件中改用可写的目录。"
    elif getattr(e, "errno", None) == 28:
        advice = "磁盘空间不足，请清理后重试。"
    else:
        advice = "请检查该路径是否可以访问、磁盘是否可写。"
    return f"文件操作失败{where}（{e.strerror or e}）。{advice}(file system error: {e})"


def crash_message(argv: list[str] | None) -> str:
    """Write the current exception's traceback to a log file; the message names it."""
    import tempfile
    import time
    import traceback

    detail = traceback.format_exc()
    name = f"selfcheck-error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    log = Path(tempfile.gettempdir()) / name
    command = " ".join(["selfcheck", *(sys.argv[1:] if argv is None else argv)])
    try:
        log.write_text(
            f"selfcheck {__version__}\ncommand: {command}\ncwd: {os.getcwd()}\n\n{detail}",
            encoding="utf-8",
        )
        where = f"完整的出错信息已写入 {log}，请将该文件发给维护人员。"
    except OSError:
        where = "完整的出错信息也无法写入日志文件。"
    last = detail.strip().splitlines()[-1] if detail.strip() else ""
    return f"程序内部出错，运行未完成（{last}）。{where}(internal error; traceback in {log})"


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from selfcheck.config import load_config
        from selfcheck.execution.kernels import warm_pool

        # the user's warm server (started now if there is none: its imports overlap the
        # runner's) stays for the next run; SELFCHECK_POOL_IDLE=0 gives each run its own
        with warm_pool(args.engine, shared=True) as pool:
            # an unknown --branch id is an error here, before any kernel starts
            grouped = bool(load_config(args.params, args.branch).branches)
            if grouped and not args.no_group and args.only is None:
                from selfcheck.execution.group import run_group

                run_group(
                    args.params,
                    branch=args.branch,
                    cluster=args.cluster,
                    allow_partial=args.allow_partial,
                    parallel=args.parallel,
                    workers=args.workers,
                    layout=not args.no_layout,
                    wait=args.wait,
                )
                return 0
            if args.cluster or args.parallel:
                raise ParamsError(
                    "--cluster / --parallel 用于集团参数文件（含 branches）的整体运行"
                    " (--cluster and --parallel run a group's branches)"
                )
            from selfcheck.execution.runner import run

            result = run(
                args.params,
                only=args.only,
                allow_partial=args.allow_partial,
                workers=args.workers,
                engine=args.engine,
                pool=pool,
                wait=args.wait,
                force=args.force,
                layout=not args.no_layout,
                branch=args.branch,
            )
        if result.failed:
            print(f"注意：{len(result.failed)} 个章节失败，报告中已标注。", file=sys.stderr)
            return 4
        return 0
    if args.command == "assemble":
        from selfcheck.execution.runner import assemble_report

        assemble_report(
            args.params,
            allow_partial=args.allow_partial,
            wait=args.wait,
            layout=not args.no_layout,
        )
        return 0
    if args.command == "sample":
        from selfcheck.period import Period
        from selfcheck.sample import generate, generate_group, group_branches

        if args.branches is not None:
            group = generate_group(
                Period.parse(args.period),
                args.out,
                branches=args.branches,
                scale=args.scale,
                history=args.history,
                seed=args.seed,
            )
            for b in group_branches(args.branches):
                periods = group[b.id]
                print(
                    f"{b.id} {b.name}（规模 {b.size:.2f}×，薄弱：{b.weak_zh}）："
                    f"{len(periods)} 期 → {args.out / b.id}"
                )
            print(f"分支机构清单：{args.out / 'branches.yaml'}")
            return 0
        written = generate(
            Period.parse(args.period),
            args.out,
            scale=args.scale,
            history=args.history,
            seed=args.seed,
        )
        for period, paths in written.items():
            print(f"{period}: {len(paths)} 个文件 → {Path(paths[0]).parent}")
        return 0
    if args.command == "validate":
        import time

        from selfcheck.config import load_config
        from selfcheck.execution.runlock import output_lock
        from selfcheck.quality import load_unused_files, quality_path, record_quality, unused_lines

        started = time.perf_counter()
        config = load_config(args.params)
        with output_lock(config.output_dir, what="validate", wait=args.wait):
            quality = record_quality(config)
        for q in quality.values():
            excluded = "，".join(f"{k} {v:,}" for k, v in q.excluded.items()) or "无"
            print(
                f"{q.name:<11} {q.file:<20} 读入 {q.rows_read:>10,} 保留 {q.rows_kept:>10,}"
                f" 剔除：{excluded}"
            )
            notes = [q.source_text, *q.notes]
            if q.columns_mapped:
                notes.append(f"列名对应 {len(q.columns_mapped)} 列")
            if q.values_mapped:
                notes.append(
                    "取值转换 " + "、".join(f"{c} {n:,}" for c, n in q.values_mapped.items())
                )
            print(f"{'':<11} {'；'.join(notes)}")
        for line in unused_lines(load_unused_files(config)):
            print(line)
        print(f"数据质量记录：{quality_path(config)}（{time.perf_counter() - started:.1f} 秒）")
        return 0
    if args.command == "sections":
        from selfcheck.sections import SECTIONS

        for s in SECTIONS:
            print(f"{s.order:>2}. {s.id:<10} {s.title:<12} notebooks/{s.notebook}")
        return 0
    if args.command == "checklist":
        return _checklist(args)
    if args.command == "new-period":
        from selfcheck.config import load_config
        from selfcheck.period import Period
        from selfcheck.scaffold import new_period

        target = None if args.period is None else Period.parse(args.period)
        written = new_period(target, args.params_dir, source=args.source)
        for path in written:
            print(f"已创建 {path}")
        try:  # e.g. a year the working calendar does not know: say so now, not at the run
            load_config(written[0])
        except ParamsError as e:
            print(
                f"注意：新参数文件尚需修改后才能运行 (edit it before the run)：{e}", file=sys.stderr
            )
        return 0
    if args.command == "pool":
        from selfcheck.execution.kernels import shared_status, start_shared, stop_shared

        if args.stop:
            print("预热内核池已停止。" if stop_shared() else "没有正在运行的预热内核池。")
            return 0
        if args.start and start_shared() is None:
            print("本环境不使用预热内核池（无 fork，或 SELFCHECK_POOL_IDLE=0）。")
            return 0
        status = shared_status()
        if status is None:
            print("没有正在运行的预热内核池（下一次 selfcheck run 会启动一个）。")
        else:
            print(
                f"预热内核池运行中：进程 {status['pid']}，已派生内核 {status['kernels']} 个、"
                f"运行 {status['runs']} 次；套接字 {status['socket']}"
            )
        return 0
    if args.command == "lab":
        import threading

        from selfcheck.execution.kernels import keep_warm, start_shared
        from selfcheck.execution.runner import kernel_environment, notebooks_dir

        user_backend = os.environ.get("MPLBACKEND")
        kernel_environment()
        # the warm server stays up while JupyterLab is open: `run --only` never waits for it
        stop = threading.Event()
        if start_shared() is not None:
            threading.Thread(target=keep_warm, args=(stop,), name="keep-warm", daemon=True).start()
        cmd = lab_command(notebooks_dir(), args.extra)
        env = os.environ.copy()
        if user_backend is None:  # headless Agg is for batch runs; Lab kernels show plots inline
            env.pop("MPLBACKEND", None)
        env.pop("SELFCHECK_RUN", None)  # what Lab kernels save is interactive, never a run's
        try:
            return subprocess.call(cmd, env=env)
        finally:
            stop.set()
    raise AssertionError(args.command)


def _checklist(args: argparse.Namespace) -> int:
    from selfcheck.checklist.commands import (
        export_definition,
        read_period_workbook,
        write_period_workbook,
    )
    from selfcheck.config import load_config

    if args.export_definition is not None:
        print(f"已写出默认自查清单：{export_definition(args.export_definition)}")
        return 0
    config = load_config(args.params)
    if args.check:
        inspection = read_period_workbook(config)
        if inspection is None:
            print(f"本期尚无检查表。运行 selfcheck checklist {args.params} 生成。")
            return 3
        for area, counts in inspection.by_area().items():
            shown = "，".join(f"{k} {v}" for k, v in counts.items() if v)
            print(f"{area:<8} {shown}")
        left = len(inspection.not_inspected)
        print(
            f"检查表 {inspection.path}：{len(inspection.entries)} 项，"
            f"发现问题 {len(inspection.findings())} 项，未检查 {left} 项。"
        )
        return 0
    summary = write_period_workbook(config, previous=args.previous)
    print(
        f"已写出 {summary.path}：{summary.items} 项，其中由指标判定 {summary.decided} 项"
        + (f"（另有 {summary.undecided} 项指标无法判定，须人工检查）" if summary.undecided else "")
        + (f"；保留已填写 {summary.kept} 项" if summary.kept else "")
        + (f"；列出上期结论 {summary.carried} 项" if summary.carried else "")
        + "。"
    )
    for note in summary.notes:
        print(f"注意：{note}")
    return 0


def lab_command(notebook_dir: Path, extra: list[str]) -> list[str]:
    """``python -m jupyterlab`` on the notebooks with the user's options after ours; as root
    (a container) with ``--allow-root``, which Jupyter otherwise demands and stops without."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={notebook_dir}"]
    geteuid = getattr(os, "geteuid", None)
    if (
        geteuid is not None
        and geteuid() == 0
        and not any(a.split("=")[0] in ("--allow-root", "--no-allow-root") for a in extra)
    ):
        cmd.append("--allow-root")
    return [*cmd, *extra]


if __name__ == "__main__":
    raise SystemExit(main())
