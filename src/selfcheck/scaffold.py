"""``selfcheck new-period``: scaffold the next period's parameters and analyst files.

The new parameters file is the previous one with its period changed (comments
kept); open measures (未开始 / 进行中 / 已延期) are carried forward into the new
measures file with ``carried_from`` set; the facts file is copied for the analyst
to update; an empty texts file explains the slots.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from selfcheck.analyst import OPEN_STATUSES, analyst_file, load_measures
from selfcheck.config import load_config
from selfcheck.errors import ParamsError
from selfcheck.period import Period

_TEXTS_TEMPLATE = """\
# {period} 分析人员补充文字。
# replace: 用自己的文字替换生成的段落；add: 在生成的段落之后补充段落。
# 槽位名为“章节.槽位”，例如 response.overview、summary.shortfalls、measures.follow_up；
# 各笔记本中 sec.narrative("…") 的第一个参数即槽位名。写错的槽位会在运行时报错。
replace: {{}}
add: {{}}
"""


def new_period(
    period: Period | None, params_dir: Path, *, source: Path | None = None
) -> list[Path]:
    """Create ``<period>.yaml`` and its analyst files from the period before; return them.

    Any kind of period: ``2026-08`` from ``2026-07.yaml``, ``2026H2`` from ``2026H1.yaml``,
    ``2027`` from ``2026.yaml``; ``source`` names another template (e.g. a quarter's
    parameters for the first month report). Without ``period``, the period after the
    template's, of the same kind.
    """
    if period is None and source is None:
        raise ParamsError(
            "请给出新期间（如 2026Q4、2026-08、2026H2、2027），或用 --from 指定上一期的参数文件"
            " (give the new period, or the previous period's parameters with --from)"
        )
    if source is None:
        assert period is not None
        source = params_dir / f"{period.previous()}.yaml"
    if not source.exists():
        raise ParamsError(f"找不到上一期的参数文件：{source}。可用 --from 指定作为模板的参数文件。")
    config = load_config(source)  # validates the template before copying it
    if period is None:
        period = config.period.next()
    target = params_dir / f"{period}.yaml"
    if target.exists():
        raise ParamsError(f"{target} 已存在，未做任何修改。如需重建，请先删除或改名。")

    text = source.read_text(encoding="utf-8")
    text = text.replace(config.period.title_zh, period.title_zh)
    text, n = re.subn(r"(?m)^period:.*$", f"period: {period}", text)
    if n != 1:
        raise ParamsError(f"{source}: 应有且只有一行 period:，无法据此生成新一期参数。")
    text = re.sub(
        r"(?m)^report_date:.*$",
        f"# report_date: {period.end.date().isoformat()}   # 报告日期，缺省为期间结束后的第一天",
        text,
    )
    written = [_write_new(target, text)]

    carried = []
    measures = load_measures(config.params_path, config.period)
    if measures is not None:
        for item in measures.measures:
            if item.status in OPEN_STATUSES:
                d = item.model_dump(mode="json", exclude_none=True)
                d.setdefault("carried_from", str(config.period))
                carried.append(d)
    header = (
        f"# {period} 整改措施。problems: 分析人员补充的问题；measures: 每个问题的原因、措施、\n"
        f"# 责任部门、完成时限和状态（未开始/进行中/已完成/已延期/已取消）。\n"
        f"# problem 填指标编号（如 phone.service_level）或补充问题的标题。\n"
        f"# 以下 {len(carried)} 项为 {config.period} 未完成、结转本期继续跟踪的措施。\n"
    )
    body = yaml.safe_dump(
        {"problems": [], "measures": carried}, allow_unicode=True, sort_keys=False
    )
    written.append(_write_new(analyst_file(target, period, "measures"), header + body))

    facts = analyst_file(config.params_path, config.period, "facts")
    if facts.exists():
        written.append(
            _write_new(
                analyst_file(target, period, "facts"),
                f"# 由 {config.period} 复制，请核对并更新数值和来源。\n"
                + facts.read_text(encoding="utf-8"),
            )
        )
    written.append(
        _write_new(analyst_file(target, period, "texts"), _TEXTS_TEMPLATE.format(period=period))
    )
    return written


def _write_new(path: Path, text: str) -> Path:
    if path.exists():
        raise ParamsError(f"{path} 已存在，未覆盖。")
    path.write_text(text, encoding="utf-8")
    return path
