"""Report: the assembled document of one period — its cover facts and its sections in order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from selfcheck.blocks import SectionResult
from selfcheck.period import Period


@dataclass(frozen=True)
class ReportMeta:
    organisation: str
    reporting_unit: str
    period: Period
    report_date: date
    confidentiality: str = "内部资料　注意保密"

    @property
    def title(self) -> str:
        return self.period.report_title_zh


@dataclass(frozen=True)
class SectionEntry:
    """A section's result and the folder holding its images."""

    result: SectionResult
    folder: Path


@dataclass(frozen=True)
class Report:
    meta: ReportMeta
    sections: tuple[SectionEntry, ...]  # in report order; numbered 一、二、… by position
