"""Labels of tables and figures and the reference markers of paragraphs, as a notebook
uses them: what is saved, what the notebook shows."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from conftest import write_params

from selfcheck.blocks import REF_MARKER, Paragraph, SectionResult, plain_refs, ref_marker
from selfcheck.errors import SectionError
from selfcheck.section import Section
from selfcheck.section.tables import _paragraph_html


@pytest.fixture
def sec(sample_root, tmp_path) -> Section:
    return Section("response", "2026Q3", write_params(tmp_path / "run", sample_root))


def test_markers() -> None:
    text = "见[[表:online]]，如[[图： 趋势 图 ]]所示，[[表?:可选]]；{表:x} 与 [x] 不是引用。"
    assert [(m.group(1), m.group(2), m.group(3)) for m in REF_MARKER.finditer(text)] == [
        ("表", None, "online"),
        ("图", None, "趋势 图"),
        ("表", "?", "可选"),
    ]
    assert plain_refs(text) == "见表[online]，如图[趋势 图]所示，表[可选]；{表:x} 与 [x] 不是引用。"
    assert ref_marker("表", "online") == "[[表:online]]"
    assert ref_marker("图", "x", optional=True) == "[[图?:x]]"


def test_notebook_shows_references_plainly() -> None:
    html = _paragraph_html(Paragraph("详见[[表:online]] & 说明"))
    assert html == '<p style="">详见表[online] &amp; 说明</p>'


def test_table_and_figure_labels_are_saved(sec: Section, tmp_path: Path) -> None:
    df = pd.DataFrame({"班组": ["甲", "乙"], "来电": [10, 20]})
    table = sec.table("各班组来电量", df, label="calls")
    plain = sec.table("无标签的表", df)
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    figure = sec.figure(fig, "来电走势", label="trend")
    assert (table.label, table.ref_label) == ("calls", "calls")
    assert (plain.label, plain.ref_label) == (None, "无标签的表")
    assert (figure.label, figure.ref_label) == ("trend", "trend")
    sec.paragraph("见[[表:calls]]。")
    folder = sec.save().parent
    loaded = SectionResult.load(folder)
    labels = [getattr(b, "label", "-") for b in loaded.blocks[-4:]]
    assert labels == ["calls", None, "trend", "-"]


@pytest.mark.parametrize("label", ["", "  ", "a]]b", "[x", 3])
def test_a_bad_label_fails_and_adds_nothing(sec: Section, label: object) -> None:
    before = len(sec.result.blocks)
    with pytest.raises(SectionError, match="label"):
        sec.table("表", pd.DataFrame({"a": [1]}), label=label)  # type: ignore[arg-type]
    fig, _ = plt.subplots()
    with pytest.raises(SectionError, match="label"):
        sec.figure(fig, "图", label=label)  # type: ignore[arg-type]
    plt.close(fig)
    assert len(sec.result.blocks) == before
