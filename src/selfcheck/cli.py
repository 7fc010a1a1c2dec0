"""Command line: ``selfcheck run|sample|validate|sections|lab`` (also ``python -m selfcheck``)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from selfcheck import __version__
from selfcheck.errors import SelfcheckError


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="selfcheck", description="客户服务自查报告：由一个季度的数据生成 Word 报告。"
    )
    p.add_argument("--version", action="version", version=f"selfcheck {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="运行全部章节并生成 Word 报告")
    r.add_argument("params", type=Path, help="参数文件，例如 params/2026Q3.yaml")
    r.add_argument("--only", metavar="SECTION", help="只重新运行一个章节，其余章节沿用已保存结果")
    r.add_argument("--allow-partial", action="store_true", help="有章节失败时仍生成报告并标注")
    r.add_argument("--workers", type=int, default=None, help="并行执行的章节数（默认按 CPU 核数）")

    s = sub.add_parser("sample", help="生成示例数据（本期及之前四个季度）")
    s.add_argument("--period", required=True, help="期间，例如 2026Q3")
    s.add_argument("--scale", choices=("small", "default", "large"), default="default")
    s.add_argument("--out", type=Path, default=Path("data"), help="数据根目录（默认 data/）")
    s.add_argument("--history", type=int, default=None, help="另外生成之前几个季度")
    s.add_argument("--seed", type=int, default=2026)

    v = sub.add_parser("validate", help="校验本期数据并写出数据质量记录")
    v.add_argument("params", type=Path)

    sub.add_parser("sections", help="列出报告章节及其笔记本")

    n = sub.add_parser("new-period", help="由上一期生成新一期的参数、整改措施等文件")
    n.add_argument("period", help="新期间，例如 2026Q4")
    n.add_argument(
        "--params-dir", type=Path, default=Path("params"), help="参数目录（默认 params/）"
    )
    n.add_argument("--from", dest="source", type=Path, default=None, help="作为模板的参数文件")

    lab = sub.add_parser("lab", help="在本环境中打开 JupyterLab（笔记本目录）")
    lab.add_argument("extra", nargs=argparse.REMAINDER, help="传给 jupyter lab 的其他参数")
    return p


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except SelfcheckError as e:
        print(f"错误：{e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        from selfcheck.runner import run

        result = run(
            args.params, only=args.only, allow_partial=args.allow_partial, workers=args.workers
        )
        if result.failed:
            print(f"注意：{len(result.failed)} 个章节失败，报告中已标注。", file=sys.stderr)
            return 4
        return 0
    if args.command == "sample":
        from selfcheck.period import Period
        from selfcheck.sample import generate

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
        from selfcheck.config import load_config
        from selfcheck.quality import quality_path, record_quality

        config = load_config(args.params)
        quality = record_quality(config)
        for q in quality.values():
            excluded = "，".join(f"{k} {v:,}" for k, v in q.excluded.items()) or "无"
            print(
                f"{q.name:<11} {q.file:<20} 读入 {q.rows_read:>10,} 保留 {q.rows_kept:>10,} 剔除：{excluded}"
            )
        print(f"数据质量记录：{quality_path(config)}")
        return 0
    if args.command == "sections":
        from selfcheck.sections import SECTIONS

        for s in SECTIONS:
            print(f"{s.order:>2}. {s.id:<10} {s.title:<12} notebooks/{s.notebook}")
        return 0
    if args.command == "new-period":
        from selfcheck.period import Period
        from selfcheck.scaffold import new_period

        for path in new_period(Period.parse(args.period), args.params_dir, source=args.source):
            print(f"已创建 {path}")
        return 0
    if args.command == "lab":
        from selfcheck.runner import kernel_environment, notebooks_dir

        kernel_environment()
        cmd = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={notebooks_dir()}", *args.extra]
        return subprocess.call(cmd, env=os.environ.copy())
    raise AssertionError(args.command)


if __name__ == "__main__":
    raise SystemExit(main())
