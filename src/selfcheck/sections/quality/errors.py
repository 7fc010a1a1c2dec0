"""服务质量检查（三）质检合格与差错情况: the pass rate and critical errors, with intervals."""

from __future__ import annotations

from collections.abc import Sequence

from selfcheck import fmt
from selfcheck.section import Section
from selfcheck.sections.options import pick_columns
from selfcheck.sections.quality.shared import (
    SAMPLED_COLUMNS,
    figures,
    m,
    no_reviews,
    pass_mark,
    sampled_note,
    sampled_row,
    with_phrases,
)


def errors(sec: Section) -> None:
    """Paragraph ``quality.errors``: passed and failed reviews, critical errors by team."""
    missing = no_reviews(sec)
    if missing:
        sec.narrative("errors", f"{missing}，无法统计质检合格率和致命差错。")
        return
    passed, critical = m(sec, "qa.pass_rate"), m(sec, "qa.critical_error_rate")
    mark = pass_mark(sec)
    if passed.has_value:
        text = (
            f"本季度得分不低于{mark}的合格质检记录{fmt.value(passed.numerator, 'count')}条，"
            f"质检合格率{with_phrases(passed)}。"
        )
        failed = (passed.denominator or 0) - (passed.numerator or 0)
        if failed:
            text += f"不合格质检记录{fmt.value(failed, 'count')}条。"
    else:
        text = f"本季度质检合格率无法计算（{passed.reason}）。"
    if critical.has_value:
        if critical.numerator:
            text += (
                f"质检发现致命差错{fmt.value(critical.numerator, 'count')}条，"
                f"致命差错率{with_phrases(critical)}。"
            )
            where = "、".join(
                f"{t}{fmt.value(n, 'count')}条"
                for t, n in figures(sec).critical_teams.itertuples(index=False)
            )
            if where:
                text += f"致命差错分布在{where}。"
        else:
            text += (
                "本季度质检未发现致命差错，"
                f"致命差错率{with_phrases(critical, with_interval=False)}。"
            )
    else:
        text += f"致命差错率无法计算（{critical.reason}）。"
    sec.narrative("errors", text)


def errors_table(sec: Section, columns: Sequence[str] | None = None) -> None:
    """Table 质检合格率与致命差错率; ``columns`` names the columns shown (None: all).
    None without reviews."""
    caption = "质检合格率与致命差错率"
    if no_reviews(sec):
        pick_columns(sec, caption, SAMPLED_COLUMNS, [], columns)
        return
    passed, critical = m(sec, "qa.pass_rate"), m(sec, "qa.critical_error_rate")
    rows = [sampled_row(x.name, x, x.target) for x in (passed, critical)]
    shown, cells = pick_columns(sec, caption, SAMPLED_COLUMNS, rows, columns)
    note = sampled_note(
        sec,
        f"质检得分（三项平均）不低于{pass_mark(sec)}为合格；"
        + "；".join(
            f"{x.name}目标{fmt.target(x.target, 'rate')}" if x.target else f"{x.name}未设目标"
            for x in (passed, critical)
        )
        + "。",
    )
    sec.table(caption, shown, cells, note=note)
