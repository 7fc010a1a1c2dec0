"""Section 服务质量检查: sampling, scores per dimension and team, pass rate, critical errors,
and the spread of mean scores across agents.

``compute(sec)`` computes every ``qa.*`` metric of the period with its history
(``selfcheck.metrics.qa``) and, once, the figures the catalogue does not hold (reviews and
sampling base per source, failed reviews and critical errors per agent and team, the
agents to list); each block function then emits one block of the report from them:

- ``overview``, ``main_table``, ``trend_chart`` — the opening (``overview.py``);
- ``coverage``, ``coverage_table`` — 质检覆盖情况 (``coverage.py``);
- ``scores``, ``scores_table``, ``teams``, ``teams_table``, ``teams_chart`` — 质检得分情况
  (``scores.py``);
- ``errors``, ``errors_table`` — 质检合格与差错情况 (``errors.py``);
- ``agents``, ``spread_table``, ``lowest_table``, ``spread_chart`` — 坐席质检差异
  (``agents.py``).

The headings are written in the notebook (as ``sec.heading`` cells). A paragraph function's
name is its slot in ``<period>_texts.yaml`` (``quality.<name>``).
"""

from __future__ import annotations

import pandas as pd

from selfcheck.metrics import qa as qa_metrics
from selfcheck.metrics.base import Measure
from selfcheck.period import Period
from selfcheck.section import Section
from selfcheck.sections.common import compute_with_history, metric_frame
from selfcheck.sections.quality.agents import agents, lowest_table, spread_chart, spread_table
from selfcheck.sections.quality.coverage import coverage, coverage_table
from selfcheck.sections.quality.errors import errors, errors_table
from selfcheck.sections.quality.overview import main_table, overview, trend_chart
from selfcheck.sections.quality.scores import scores, scores_table, teams, teams_chart, teams_table
from selfcheck.sections.quality.shared import (
    AGENT_PREFIX,
    LOWEST_AGENTS,
    MAIN_IDS,
    MAX_LISTED_AGENTS,
    SECTION_ID,
    SOURCE_LABEL,
    TREND_IDS,
    Figures,
    keep,
)

__all__ = [
    "MAIN_IDS",
    "MAX_LISTED_AGENTS",
    "SECTION_ID",
    "SOURCE_LABEL",
    "TREND_IDS",
    "agents",
    "compute",
    "coverage",
    "coverage_table",
    "errors",
    "errors_table",
    "lowest_table",
    "main_table",
    "open_section",
    "overview",
    "scores",
    "scores_table",
    "spread_chart",
    "spread_table",
    "teams",
    "teams_chart",
    "teams_table",
    "trend_chart",
]


def open_section(period: str, params_path: str, branch: str = "") -> Section:
    return Section(SECTION_ID, period, params_path, branch)


def _measures(sec: Section, period: Period) -> dict[str, Measure]:
    return qa_metrics.qa(
        sec.data("qa_reviews", period),
        sec.config.thresholds,
        staff=sec.data("staff", period),
        calls=sec.data("calls", period),
        chats=sec.data("chats", period),
        tickets=sec.data("tickets", period),
        visits=sec.data("visits", period),
    )


def compute(sec: Section) -> pd.DataFrame:
    """Compute every ``qa`` metric (breakdowns included) with QoQ, YoY, trend and intervals,
    and the section's other figures; the blocks read them.

    The frame shown in the notebook leaves out the per-agent rows (they are summarised in
    the report, not listed one per row).
    """
    metrics = compute_with_history(sec, _measures)
    mark = sec.config.thresholds.qa_pass_score
    staff = sec.data("staff")
    reviews = qa_metrics.review_frame(sec.data("qa_reviews"), mark, staff)
    agent_metrics = [m for m in metrics if m.metric_id.startswith(AGENT_PREFIX) and m.has_value]
    agent_rows = qa_metrics.agent_frame(agent_metrics, reviews, staff)
    keep(
        sec,
        Figures(
            sources=qa_metrics.sampling_by_source(
                sec.data("qa_reviews"),
                calls=sec.data("calls"),
                chats=sec.data("chats"),
                tickets=sec.data("tickets"),
                visits=sec.data("visits"),
            ),
            reviews=reviews,
            agents=agent_rows,
            lowest=qa_metrics.lowest_agents(
                agent_rows, mark, at_least=LOWEST_AGENTS, at_most=MAX_LISTED_AGENTS
            ),
            critical_teams=qa_metrics.critical_by_team(reviews),
        ),
    )
    return metric_frame([m for m in metrics if not m.metric_id.startswith(AGENT_PREFIX)])
