"""（三）客户意见与建议 of the section 客户满意度与投诉处理: one function per report block.

Themes of the survey comments and representative comments, with personal data masked
(:mod:`selfcheck.comments`, :mod:`selfcheck.privacy`). The notebook
``05_satisfaction.ipynb`` writes the heading. Narrative slot: ``comments``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from selfcheck import comments as comment_tools
from selfcheck import fmt
from selfcheck.blocks import Column, Paragraph, Table
from selfcheck.metrics import satisfaction as satisfaction_metrics
from selfcheck.section import Section
from selfcheck.sections.common import cached, select_columns

MIN_MENTIONS = 3  # a theme's mean score is discussed from this many mentions
THEME_COLUMNS = (
    Column("主题", "text", width=0.28),
    Column("提及次数", "int", width=0.18),
    Column("占留言比例", "rate", width=0.24),
    Column("平均总体评分", "number", decimals=2, width=0.30),
)
THEME_COLUMN_NAMES = tuple(c.name for c in THEME_COLUMNS)


def customer(segment: str) -> str:
    """``个人`` → ``个人客户``; ``大客户`` stays as it is."""
    return segment if segment.endswith("客户") else f"{segment}客户"


@dataclass(frozen=True)
class _Comments:
    surveys: pd.DataFrame
    text: pd.Series  # cleaned comment text, NA when blank
    scores: pd.Series  # valid overall scores, NaN otherwise
    themes: pd.DataFrame  # comment_tools.theme_table


def _comments(sec: Section) -> _Comments | None:
    """The surveys' comments with their valid scores and themes (None without comments)."""

    def make() -> _Comments | None:
        surveys = sec.data("surveys")
        if surveys is None or "comment" not in surveys.columns:
            return None
        text = comment_tools.clean(surveys["comment"])
        scores = satisfaction_metrics.valid_scores(surveys, sec.config.thresholds)
        themes = comment_tools.theme_table(surveys["comment"], scores)
        return _Comments(surveys, text, scores, themes)

    return cached(sec, "comments", make)


def _quotes(
    sec: Section,
    lowest: int = comment_tools.LOWEST,
    top_themes: int = comment_tools.TOP_THEMES,
    max_quotes: int = comment_tools.MAX_QUOTES,
) -> pd.DataFrame:
    c = _comments(sec)
    if c is None or int(c.text.notna().sum()) == 0:
        return pd.DataFrame(columns=["text", "overall", "segment", "reason"])
    return cached(
        sec,
        f"quotes:{lowest}:{top_themes}:{max_quotes}",
        lambda: comment_tools.representative(
            c.surveys.assign(overall=c.scores),
            lowest=lowest,
            top_themes=top_themes,
            max_quotes=max_quotes,
        ),
    )


def comments_text(sec: Section) -> Paragraph:
    """How many surveys commented, the most frequent themes and those with the lowest scores."""
    surveys = sec.data("surveys")
    if surveys is None:
        return sec.narrative("comments", "本季度无满意度调查数据，无客户意见可供分析。")
    c = _comments(sec)
    if c is None:
        return sec.narrative(
            "comments", "问卷数据未包含意见建议字段，本季度无客户意见可供分析（无数据）。"
        )
    n_comments = int(c.text.notna().sum())
    if n_comments == 0:
        return sec.narrative("comments", "本季度问卷均未填写意见建议，无客户意见可供分析。")
    scale = sec.config.thresholds.survey_scale
    themes = c.themes
    out = (
        f"本季度共有{fmt.number(n_comments, 0)}份问卷填写了意见建议，占回收问卷的"
        f"{fmt.percent(n_comments / len(surveys))}。"
    )
    if not themes.empty:
        top = themes.head(4)
        out += (
            "按关键词归类，提及较多的主题依次为"
            + "、".join(
                f"{t}（{fmt.number(n, 0)}条，占{fmt.percent(s)}）"
                for t, n, s in zip(top["theme"], top["mentions"], top["share"], strict=True)
            )
            + "。"
        )
        mean_all = pd.to_numeric(c.scores, errors="coerce")[c.text.notna()].mean()
        scored = themes[themes["mean_score"].notna() & themes["mentions"].ge(MIN_MENTIONS)]
        low = scored[scored["mean_score"] < mean_all].nsmallest(2, "mean_score")
        if not low.empty:
            values = [fmt.number(v, 2) + "分" for v in low["mean_score"]]
            out += (
                f"提及{'、'.join(low['theme'])}的客户总体评分平均最低，"
                + ("分别为" + "和".join(values) if len(values) > 1 else f"为{values[0]}")
                + f"，低于全部留言客户的{fmt.number(mean_all, 2)}分（满分{scale}分），"
                "是不满意见相对集中的方面。"
            )
    else:
        out += "留言未涉及预设的主题关键词。"
    if not _quotes(sec).empty:
        out += "以下摘录评分最低的留言和高频主题的典型留言，其中的电话号码、证件号码、银行卡号和电子邮箱已作脱敏处理。"
    return sec.narrative("comments", out)


def themes_table(sec: Section, columns: Sequence[str] = THEME_COLUMN_NAMES) -> Table | None:
    """Mentions, share of the comments and mean overall score of each theme."""
    c = _comments(sec)
    if c is None or c.themes.empty:
        return None
    scale = sec.config.thresholds.survey_scale
    rows = list(
        c.themes[["theme", "mentions", "share", "mean_score"]].itertuples(index=False, name=None)
    )
    cols, rows = select_columns(sec, "客户留言主题分布", THEME_COLUMNS, rows, columns)
    return sec.table(
        "客户留言主题分布",
        cols,
        rows,
        note=(
            f"注：按关键词归类，一条留言可涉及多个主题，占比之和可超过100%；平均总体评分为提及该主题的"
            f"问卷的总体满意度平均分（满分{scale}分）。"
        ),
    )


def _score_text(v: float) -> str:
    return fmt.number(v, 0 if float(v).is_integer() else 1) + "分"


def quotes(
    sec: Section,
    lowest: int = comment_tools.LOWEST,
    top_themes: int = comment_tools.TOP_THEMES,
    max_quotes: int = comment_tools.MAX_QUOTES,
) -> None:
    """Quoted comments, masked: the ``lowest`` lowest-scoring ones, then the most typical
    of the ``top_themes`` most frequent themes, ``max_quotes`` at most (one paragraph each)."""
    chosen = _quotes(sec, lowest=lowest, top_themes=top_themes, max_quotes=max_quotes)
    for text, score, segment, reason in zip(
        chosen["text"], chosen["overall"], chosen["segment"], chosen["reason"], strict=True
    ):
        about = []
        if pd.notna(score):
            about.append(f"总体评分{_score_text(float(score))}")
        if isinstance(segment, str) and segment:
            about.append(customer(segment))
        if reason != "评分最低":
            about.append(f"主题：{reason}")
        sec.paragraph(f"“{text}”（{'，'.join(about)}）", style="quote")
