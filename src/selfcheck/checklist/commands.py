"""``selfcheck checklist``: the period's workbook written, rewritten or checked."""

from __future__ import annotations

from pathlib import Path

from selfcheck.checklist.decide import read_metrics_csv
from selfcheck.checklist.definition import Checklist, default_text, load_checklist
from selfcheck.checklist.workbook import (
    Inspection,
    WriteSummary,
    read_workbook,
    workbook_path,
    write_workbook,
)
from selfcheck.config import Config
from selfcheck.errors import OutputError
from selfcheck.exports import METRICS_FILE


def inspection_window(config: Config):
    """The dates an inspection of the period may carry: its first day to the report date."""
    return config.period.first_day, max(config.report_date, config.period.last_day)


def write_period_workbook(config: Config, *, previous: Path | None = None) -> WriteSummary:
    """The period's ``<period>_checklist.xlsx`` beside the parameters file.

    Metric-decided items are filled from the period's ``metrics.csv`` when a run has
    written it. ``previous`` (default: last period's workbook beside the parameters file,
    when there is one) gives the 上期结论 column.
    """
    checklist = load_checklist(config.checklist_path)
    metrics_csv = config.output_dir / METRICS_FILE
    metrics = read_metrics_csv(metrics_csv) if metrics_csv.is_file() else None
    before = config.period.previous()
    if previous is None:
        candidate = workbook_path(config, before)
        previous = candidate if candidate.is_file() else None
    return write_workbook(
        checklist,
        str(config.period),
        workbook_path(config, config.period),
        window=inspection_window(config),
        metrics=metrics,
        previous=previous,
        previous_period=str(before),
    )


def read_period_workbook(config: Config, checklist: Checklist | None = None) -> Inspection | None:
    """The period's workbook read back strictly against ``checklist`` (None: the configured
    one, loaded here); None when there is no workbook."""
    path = workbook_path(config, config.period)
    if not path.is_file():
        return None
    if checklist is None:
        checklist = load_checklist(config.checklist_path)
    return read_workbook(path, checklist, str(config.period), window=inspection_window(config))


def export_definition(path: Path) -> Path:
    """A copy of the default checklist for the organisation to edit (never overwrites)."""
    if path.exists():
        raise OutputError(f"{path} 已存在，未覆盖。请换一个文件名或先移走它。(file exists)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(default_text(), encoding="utf-8")
    return path
