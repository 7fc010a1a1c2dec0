"""Section 各分支机构对比: the notebook's cells run in-process over hand-made saved reports
of three branches (one of which never ran) and the group's own figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import PERIOD, ROOT
from notebook_cells import fill_missing_results, run_cells

from selfcheck.blocks import Figure, Paragraph, SectionResult, Table
from selfcheck.config import load_config
from selfcheck.metrics.base import Metric, Target

SL = Target(">=", 0.8)
ABANDON = Target("<=", 0.05)


def _metrics(sl: float, abandon: float, previous_sl: float | None = None) -> list[Metric]:
    return [
        Metric("phone.service_level", "45秒接通率", "rate", sl, target=SL, previous=previous_sl),
        Metric("phone.abandon_rate", "放弃率", "rate", abandon, target=ABANDON),
        Metric("phone.calls", "来电量", "count", 100.0),  # no target: not compared
    ]


def _report(folder: Path, metrics: list[Metric]) -> None:
    """What a branch's finished run leaves: its response result, manifest, quality record."""
    SectionResult("response", "服务响应速度", 5, PERIOD, metrics=metrics).save(
        folder / "sections" / "response"
    )
    (folder / "run_manifest.json").write_text(
        json.dumps({"period": PERIOD, "report": str(folder / "r.docx")}), encoding="utf-8"
    )
    (folder / "data_quality.json").write_text(
        json.dumps(
            {"datasets": [{"name": "calls", "file": "calls.csv", "rows_kept": 90,
                           "excluded": {"问题行": 2, "期间外": 1}, "sha256": "ab" * 32}]}
        ),
        encoding="utf-8",
    )  # fmt: skip


@pytest.fixture
def group(tmp_path) -> Path:
    params = tmp_path / "params" / f"{PERIOD}.yaml"
    params.parent.mkdir()
    lines = [
        f"period: {PERIOD}",
        "organisation: 测试集团有限公司",
        "reporting_unit: 客户服务中心",
        "report_date: 2026-10-15",
        f"standards: {(ROOT / 'params' / 'standards.yaml').as_posix()}",
        f"output_dir: {(tmp_path / 'outputs').as_posix()}/{{period}}",
        "layout: 'off'",
        "branches:",
    ]
    for i, name in ((1, "华东分公司"), (2, "华南分公司"), (3, "西南分公司")):
        lines += [f"  - id: b0{i}", f"    name: {name}",
                  f"    data_dir: {(tmp_path / 'data' / f'b0{i}').as_posix()}/{{period}}"]  # fmt: skip
    params.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "outputs" / PERIOD
    _report(out / "b01", _metrics(0.82, 0.08, previous_sl=0.79))  # abandon: (0.08-0.05)/0.05 严重
    _report(out / "b02", _metrics(0.75, 0.04))  # service level short: (0.80-0.75)/0.20 较重
    # b03 never ran: no report
    (params.parent / "b02").mkdir()
    (params.parent / "b02" / f"{PERIOD}_measures.yaml").write_text(
        "measures:\n  - problem: phone.service_level\n    cause: 排班不足。\n"
        "    measure: 按小时预测排班。\n    owner: 运营组\n    due: 2026-12-31\n    status: 进行中\n",
        encoding="utf-8",
    )
    # the group's own figures (from the pooled records): 1,600 of 2,000 in time = 0.8
    SectionResult("response", "服务响应速度", 5, PERIOD, metrics=_metrics(0.8, 0.06)).save(
        out / "group" / "sections" / "response"
    )
    fill_missing_results(params)
    return params


def test_branches_compared_by_name_with_rank_and_change(group):
    sec = run_cells("11_branches.ipynb", PERIOD, group)
    assert sec.in_scope
    text = " ".join(b.text for b in sec.result.blocks if isinstance(b, Paragraph))
    assert "本期纳入集团汇总的分支机构共2个：华东分公司、华南分公司" in text
    assert "未纳入本期汇总的机构：西南分公司（还没有本期报告" in text
    assert "问题最严重的是华东分公司，有1项指标差距严重，差距最大的是放弃率（8.0%）" in text
    assert "b01" not in text and "b02" not in text  # names, never ids
    tables = {t.caption: t for t in sec.result.blocks if isinstance(t, Table)}
    short = tables["各分支机构未达标指标"]
    assert [r[:3] for r in short.rows] == [("华东分公司", 1, 1), ("华南分公司", 1, 0)]
    sl = tables["45秒接通率分机构对比"]
    assert [r for r in sl.rows] == [
        ("华东分公司", "82.0%", "≥80.0%", "达标", 1, "+3.0个百分点"),
        ("华南分公司", "75.0%", "≥80.0%", "未达标", 2, "—"),
    ]
    assert "集团汇总值80.0%" in sl.note
    assert [r[3:5] for r in tables["放弃率分机构对比"].rows] == [("未达标", 2), ("达标", 1)]
    assert "来电量分机构对比" not in tables  # no target: not compared
    measures = tables["各分支机构整改措施"]
    assert list(measures.rows) == [
        ("华南分公司", "45秒接通率", "按小时预测排班。", "运营组", "2026年12月31日", "进行中")
    ]
    sources = tables["各分支机构数据来源"]
    assert list(sources.rows) == [
        ("华东分公司", "calls", "calls.csv", 90, 3, "abababababab"),
        ("华南分公司", "calls", "calls.csv", 90, 3, "abababababab"),
    ]
    assert [b.caption for b in sec.result.blocks if isinstance(b, Figure)] == ["主要指标分机构对比"]


def test_left_out_of_a_branch_report(group):
    from notebook_cells import code_cells

    assert not load_config(group, "b01").is_group
    namespace: dict = {"period": PERIOD, "params_path": str(group), "branch": "b01"}
    for source in code_cells("11_branches.ipynb"):
        exec(compile(source, "11_branches.ipynb", "exec"), namespace)
    sec = namespace["sec"]
    assert not sec.in_scope
    assert SectionResult.load(sec.folder).blocks == []  # saved empty: the report leaves it out
