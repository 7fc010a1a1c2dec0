"""The sample organisation's filled checklists: 2026Q3 (the sample quarter) and 2026Q2.

``params/2026Q3_checklist.xlsx`` and ``params/2026Q2_checklist.xlsx`` are written by
:func:`write_sample_workbooks` (``python -m selfcheck.checklist.sample params``) and
committed, so ``make report`` shows the whole path: items inspected by hand, a few 不符合
and 基本符合 (with measures in the measures files, one followed up from last quarter), one
item left not inspected. ``tests/test_checklist.py`` checks the committed files hold
what this module writes.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from selfcheck.checklist.definition import load_checklist
from selfcheck.checklist.workbook import COL, SHEET, write_workbook

INSPECTORS = ("王敏", "李强", "赵琳")

# item id → (conclusion, description, evidence, inspector, date); items not listed are 符合
FINDINGS = {
    "2026Q3": {
        "S02": ("不符合",
                "现场观察早晚两个班次，坐席在客户追问政策时多次以“系统规定”作答，未主动提出替代办法；"
                "客户访谈10人中3人反映同一问题需多次来电",
                "现场观察记录、客户访谈记录", "赵琳", date(2026, 9, 24)),
        "Q09": ("基本符合",
                "抽听60通录音，9通未向客户说明处理进度和预计答复时间",
                "录音抽查表（60通）", "王敏", date(2026, 9, 18)),
        "F05": ("基本符合",
                "应急预案已于8月修订，但本期未组织系统切换演练",
                "应急预案（2026年8月版）", "李强", date(2026, 10, 9)),
    },
    "2026Q2": {
        "S04": ("不符合", "二季度培训计划12项仅完成7项，新业务培训未开展",
                "培训台账", "李强", date(2026, 6, 26)),
        "F05": ("不符合", "应急预案仍为2024年版，未覆盖新上线的在线客服系统",
                "应急预案（2024年版）", "李强", date(2026, 6, 29)),
    },
}  # fmt: skip
NOT_INSPECTED = {"2026Q3": ("P07",), "2026Q2": ()}
WINDOWS = {
    "2026Q3": (date(2026, 7, 1), date(2026, 10, 15)),
    "2026Q2": (date(2026, 4, 1), date(2026, 7, 15)),
}
FIRST_DAY = {"2026Q3": date(2026, 9, 15), "2026Q2": date(2026, 6, 15)}


def fill(period: str, path: Path) -> Path:
    """Write the period's workbook for the default checklist and fill it as the sample's
    inspectors did."""
    import openpyxl

    checklist = load_checklist()
    write_workbook(checklist, period, path, window=WINDOWS[period], metrics=None)
    wb = openpyxl.load_workbook(path)
    ws = wb[SHEET]
    findings = FINDINGS[period]
    for n, item in enumerate(checklist.items):
        row = n + 2
        if item.decided_by_metrics or item.id in NOT_INSPECTED[period]:
            continue
        if item.id in findings:
            conclusion, description, evidence, inspector, when = findings[item.id]
        else:
            conclusion, description, evidence = "符合", None, item.evidence
            inspector = INSPECTORS[n % len(INSPECTORS)]
            when = date.fromordinal(FIRST_DAY[period].toordinal() + n % 20)
        for header, value in (("结论", conclusion), ("问题描述", description),
                              ("证据/来源", evidence), ("检查人", inspector),
                              ("检查日期", when)):  # fmt: skip
            ws.cell(row, COL[header] + 1, value)
    wb.save(path)
    return path


def write_sample_workbooks(params_dir: Path) -> list[Path]:
    return [fill(p, params_dir / f"{p}_checklist.xlsx") for p in ("2026Q2", "2026Q3")]


if __name__ == "__main__":
    for written in write_sample_workbooks(Path(sys.argv[1] if len(sys.argv) > 1 else "params")):
        print(written)
