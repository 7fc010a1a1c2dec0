"""Sections that leave themselves out whatever the data say are saved empty by the run
without a kernel: 各分支机构对比 outside a group's report, 自查工作开展情况 without the
period's checklist workbook. With the file (or in a group) the notebook runs."""

from __future__ import annotations

from conftest import PERIOD, write_params

from selfcheck.blocks import SectionResult
from selfcheck.config import load_config
from selfcheck.execution import runner
from selfcheck.sections import get_section


def _left_out(config, section_id: str):
    got = runner._run_section(get_section(section_id), config, None, None, lambda _: None)
    saved = SectionResult.load(config.output_dir / "sections" / section_id)
    return got, saved


def test_saved_empty_without_a_kernel(tmp_path, sample_root):
    config = load_config(write_params(tmp_path, sample_root))
    for section_id in ("branches", "inspection"):
        got, saved = _left_out(config, section_id)
        assert got.status == "ok" and got.notebook is None  # no notebook was executed
        assert saved.section_id == section_id and saved.period == PERIOD
        assert saved.blocks == [] and saved.metrics == [] and saved.inputs == {}
        assert saved.origin == "papermill"


def test_a_checklist_workbook_or_a_group_runs_the_notebook(tmp_path, sample_root):
    params = write_params(tmp_path, sample_root)
    config = load_config(params)
    assert runner._left_out(get_section("inspection"), config)
    (params.parent / f"{PERIOD}_checklist.xlsx").write_bytes(b"")  # any file: the notebook reads it
    assert not runner._left_out(get_section("inspection"), config)
    assert runner._left_out(get_section("branches"), config)
    text = params.read_text(encoding="utf-8")
    params.write_text(
        text
        + f"branches:\n  - id: b01\n    name: 华东分公司\n    data_dir: {sample_root.as_posix()}/{{period}}\n",
        encoding="utf-8",
    )
    group = load_config(params)
    assert group.is_group and not runner._left_out(get_section("branches"), group)
    # a branch's report is not the group's: the section is left out there
    assert runner._left_out(get_section("branches"), group.for_branch("b01"))
