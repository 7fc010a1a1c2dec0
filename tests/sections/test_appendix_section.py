"""Section 附录 run in-process — the code cells of its notebook, in order — over a hand-made
result of an earlier section and the small sample's data-quality record."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from conftest import PERIOD, ROOT, write_params
from notebook_cells import fill_missing_results

from selfcheck.blocks import Heading, Paragraph, SectionResult, Table
from selfcheck.errors import SectionError
from selfcheck.metrics.base import Metric
from selfcheck.sections import appendix

HEADINGS = ["指标口径", "参数取值", "数据来源与质量", "运行记录"]


def _run(params: Path):
    path = ROOT / "notebooks" / "10_appendix.ipynb"
    nb = nbformat.read(path, as_version=4)
    fill_missing_results(params)  # the first-phase sections not made by hand: empty
    scope: dict = {"period": PERIOD, "params_path": str(params), "branch": ""}
    for source in [c.source for c in nb.cells if c.cell_type == "code"][1:]:
        exec(compile(source, str(path), "exec"), scope)
    return scope["sec"]


def _save_response(folder: Path, **attrs) -> None:
    metrics = [
        Metric("phone.offered", "请求人工量", "count", 1000.0, n=1000),
        Metric("phone.service_level", "45秒接通率", "rate", 0.756, 756, 1000, 1000),
    ]
    result = SectionResult("response", "服务响应速度", 4, PERIOD, metrics=metrics)
    for k, v in attrs.items():
        setattr(result, k, v)
    result.save(folder / "outputs" / PERIOD / "sections" / "response")


@pytest.fixture(scope="module")
def sec(sample_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("appendix")
    params = write_params(folder, sample_root)
    _save_response(folder)
    return _run(params)


def test_parts_in_report_order(sec):
    assert [h.text for h in sec.result.blocks if isinstance(h, Heading)] == HEADINGS
    tables = [b.caption for b in sec.result.blocks if isinstance(b, Table)]
    assert tables[:4] == ["指标口径与目标", "本期计算参数", "自查范围", "数据来源与处理情况"]
    assert tables[-2:] == ["输入文件校验值（SHA-256 前16位）", "软件版本"]
    (definitions,) = [
        b for b in sec.result.blocks if isinstance(b, Table) and b.caption == "指标口径与目标"
    ]
    assert [r[0] for r in definitions.rows] == ["phone.offered", "phone.service_level"]
    assert definitions.rows[1][3] == "≥80.0%"  # from standards.yaml
    last = sec.result.blocks[-1]
    assert isinstance(last, Paragraph) and last.text.startswith("报告期间：2026年第3季度")
    # every result came from a Papermill run: nothing said about interactive sessions
    assert not any("交互式" in b.text for b in sec.result.blocks if isinstance(b, Paragraph))


def test_sources_table_counts_every_dataset(sec, sample_root):
    (table,) = [
        b for b in sec.result.blocks if isinstance(b, Table) and b.caption == "数据来源与处理情况"
    ]
    assert len(table.rows) == 10
    import pandas as pd

    calls = pd.read_csv(sample_root / PERIOD / "calls.csv")
    (row,) = [r for r in table.rows if r[0] == "电话"]
    assert row[2] == len(calls) and row[3] + row[4] + row[5] == row[2]


def test_interactive_results_are_named_in_the_run_record(sample_root, tmp_path):
    params = write_params(tmp_path, sample_root)
    _save_response(tmp_path)
    fill_missing_results(params)
    sec = appendix.open_section(PERIOD, str(params))
    appendix.compute(sec)
    (result,) = [r for r in appendix._inputs(sec).results if r.section_id == "response"]
    result.origin, result.saved_at = "interactive", "2026-10-12T14:03:27+08:00"
    appendix.origins(sec)
    (note,) = sec.result.blocks
    assert note.style == "note"
    assert note.text == (
        "以下章节的结果保存自 JupyterLab 交互式会话，而非 Papermill 批量运行："
        "服务响应速度（2026年10月12日 14:03保存）。"
    )


def test_origins_text():
    run = SimpleNamespace(title="报告摘要")  # a result from before origin existed
    batch = SimpleNamespace(title="服务响应速度", origin="papermill", saved_at="2026-10-12T09:00")
    lab = SimpleNamespace(title="服务质量检查", origin="interactive", saved_at=None)
    assert appendix.origins_text([run, batch]) == ""
    assert appendix.origins_text([run, lab, batch]).endswith("：服务质量检查。")


def test_options_are_checked(sec):
    blocks = list(sec.result.blocks)
    with pytest.raises(SectionError, match="limit="):
        appendix.examples_table(sec, limit=0)
    with pytest.raises(SectionError, match="没有这些列：大小"):
        appendix.checksums_table(sec, columns=("文件", "大小"))
    assert sec.result.blocks == blocks
