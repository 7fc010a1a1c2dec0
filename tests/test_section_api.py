"""The Section API as a notebook uses it: tables from DataFrames, figures of any matplotlib
origin, narratives with their slot, saving that never loses a result, results that are read
back or refused with a clear error."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import write_params

from selfcheck import charts
from selfcheck import section as section_module
from selfcheck.blocks import Column, Figure, Heading, Paragraph, SectionResult, Table
from selfcheck.errors import ReportError, SectionError
from selfcheck.metrics.base import Metric, Target
from selfcheck.results import check_consistency, read_inputs
from selfcheck.section import Section, build_table, cell_html, table_html
from selfcheck.sections import get_section


@pytest.fixture
def params(sample_root, tmp_path) -> Path:
    return write_params(tmp_path / "run", sample_root)


@pytest.fixture
def sec(params) -> Section:
    return Section("response", "2026Q3", params)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


# -- tables ------------------------------------------------------------------------------
def test_table_from_dataframe_infers_kinds_from_dtypes():
    df = pd.DataFrame(
        {
            "渠道": ["电话", "在线"],
            "来电量": np.array([1200, 35], dtype="int64"),
            "均值": [12.345, 7.0],
            "达标率": [0.953, 0.5],
            "状态": ["达标", "未达标"],
        }
    )
    t = build_table("按渠道", df, kinds={"达标率": "rate"}, decimals={"均值": 2})
    assert [(c.name, c.kind, c.decimals) for c in t.columns] == [
        ("渠道", "text", 1),
        ("来电量", "int", 1),
        ("均值", "number", 2),
        ("达标率", "rate", 1),
        ("状态", "status", 1),
    ]
    assert t.rows == (("电话", 1200, 12.345, 0.953, "达标"), ("在线", 35, 7.0, 0.5, "未达标"))
    assert all(type(v) in (str, int, float) for r in t.rows for v in r)  # no numpy scalars
    markup = table_html(t)  # the same text as in Word
    for text in ("1,200", "12.35", "95.3%", "50.0%", "7.00"):
        assert f">{text}</td>" in markup
    assert 'color:#C00000;font-weight:bold">未达标' in markup


def test_table_from_dataframe_keeps_a_named_index_and_writes_missing_as_dash():
    df = pd.DataFrame({"单量": [3, 4]}, index=pd.Index(["A组", "B组"], name="班组"))
    df["占比"] = [0.25, np.nan]
    t = build_table("班组", df, widths={"班组": 0.5, "单量": 0.25, "占比": 0.25})
    assert [c.name for c in t.columns] == ["班组", "单量", "占比"]
    assert [c.width for c in t.columns] == [0.5, 0.25, 0.25]
    assert t.rows == (("A组", 3, 0.25), ("B组", 4, None))
    assert ">—</td>" in table_html(t)


def test_table_with_column_names_as_strings():
    t = build_table("简表", ["项目", "数量", "均值"], [("甲", 2, 1.5), ("乙", 3, 2.25)])
    assert [(c.name, c.kind) for c in t.columns] == [
        ("项目", "text"),
        ("数量", "int"),
        ("均值", "number"),
    ]


def test_old_signature_still_works(sec):
    cols = (Column("指标"), Column("本期", "rate"))
    t = sec.table("旧写法", cols, [("接通率", 0.9)], "注：示例。")
    assert t.note == "注：示例。" and sec.result.blocks == [t]


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("表", ["a", "b"], [(1,)]), {}, "第 1 行有 1 个值，表头有 2 列"),
        (("表", pd.DataFrame({"a": [1]}), [(1,)]), {}, "不要再传 rows"),
        (("表", pd.DataFrame({"a": [1]})), {"kinds": {"b": "rate"}}, "kinds 中的列不存在：b"),
        (("表", pd.DataFrame({"a": [1]})), {"kinds": {"a": "percent"}}, "类型 'percent' 未知"),
        (("表", pd.DataFrame({"a": [1.0]})), {"decimals": {"a": 1.5}}, "小数位"),
        (("表", "a,b", [(1, 2)]), {}, "应为 DataFrame 或列的列表"),
        (("表", ["a"]), {}, "缺少 rows"),
        (("", ["a"], [(1,)]), {}, "非空文字"),
        (("表", ["a"], [({"x": 1},)]), {}, "无法写入报告"),
        (("表", ["a"], [(float("inf"),)]), {}, "无穷大"),
    ],
)
def test_a_wrong_table_argument_fails_clearly_and_adds_nothing(sec, args, kwargs, message):
    sec.heading("小节")
    with pytest.raises(SectionError) as e:
        sec.table(*args, **kwargs)
    assert message in str(e.value)
    assert [type(b) for b in sec.result.blocks] == [Heading]


def test_cell_html_uses_the_word_formatter():
    assert cell_html(0.9534, Column("x", "rate")) == '<td style="text-align:right">95.3%</td>'
    assert cell_html(-0.012, Column("x", "pp")) == (
        '<td style="text-align:right">-1.2个百分点</td>'
    )
    assert cell_html(float("nan"), Column("x", "int")) == '<td style="text-align:right">—</td>'
    assert cell_html("a\x01b", Column("x")) == '<td style="">ab</td>'  # cleaned as for Word


# -- figures -----------------------------------------------------------------------------
def test_figure_with_a_long_label_at_default_size_is_not_cut():
    charts.setup()
    fig, ax = plt.subplots()  # matplotlib's default size, no layout engine
    ax.plot([1, 2, 3], [3, 1, 2])
    label = ax.set_xlabel("一个很长很长的横轴标签，" * 6)
    png = charts.render(fig)
    width, height = _png_size(png)
    # the saved image holds the label whole: its extent (at the saving resolution) is inside
    fig.set_dpi(charts.DPI)
    fig.canvas.draw()
    box = label.get_window_extent()
    tight = fig.get_tightbbox(fig.canvas.get_renderer())
    if (width, height) == (round(fig.bbox.width), round(fig.bbox.height)):
        assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height
    else:  # saved with a tight bounding box: the image is that box plus the pad
        pad = charts.TIGHT_PAD_IN * charts.DPI
        assert abs(width - (tight.width * charts.DPI + 2 * pad)) <= 2
        assert abs(height - (tight.height * charts.DPI + 2 * pad)) <= 2
    plt.close(fig)
    assert charts.render(_long_label_figure()) == charts.render(_long_label_figure())


def _long_label_figure():
    fig, ax = plt.subplots()
    ax.bar(["甲", "乙"], [1, 2])
    ax.set_xlabel("很长的标签" * 12)
    return fig


def test_default_figure_gets_a_layout_and_a_normal_label_fits_the_canvas():
    charts.setup()
    fig, ax = plt.subplots(figsize=(6.3, 3.4))
    ax.plot([1, 2], [1, 2])
    label = ax.set_xlabel("处理时长（小时）")
    png = charts.render(fig)
    assert fig.get_layout_engine() is not None
    assert _png_size(png) == (round(6.3 * charts.DPI), round(3.4 * charts.DPI))
    fig.set_dpi(charts.DPI)
    fig.canvas.draw()
    box = label.get_window_extent()
    assert box.y0 >= 0 and box.x0 >= 0 and box.x1 <= 6.3 * charts.DPI
    plt.close(fig)


def test_figure_accepts_axes_and_seaborn_grids_and_refuses_other_things(sec):
    import seaborn as sns

    _, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    sec.figure(ax, "由 Axes")
    grid = sns.FacetGrid(pd.DataFrame({"x": [1, 2, 3], "g": ["a", "b", "a"]}), col="g")
    grid.map(plt.hist, "x")
    sec.figure(grid, "由 FacetGrid")
    with pytest.raises(SectionError, match="需要 matplotlib 图"):
        sec.figure("not a figure", "坏")
    with pytest.raises(SectionError, match="width_cm"):
        sec.figure(plt.subplots()[0], "太宽", width_cm=40)
    assert [b.caption for b in sec.result.blocks] == ["由 Axes", "由 FacetGrid"]


# -- saving --------------------------------------------------------------------------------
def test_opening_a_section_leaves_its_saved_result_alone(params):
    first = Section("response", "2026Q3", params)
    first.heading("标题")
    path = first.save()
    before = path.read_bytes()
    Section("response", "2026Q3", params)  # the open cell run again
    assert path.read_bytes() == before


def test_save_names_figures_by_their_final_order_and_drops_stale_images(sec):
    def fig():
        f, ax = plt.subplots(figsize=(3, 2), layout="constrained")
        ax.plot([0, 1])
        return f

    sec.figure(fig(), "一")
    sec.figure(fig(), "二")
    sec.figure(fig(), "三")
    sec.save()
    assert sorted(p.name for p in sec.folder.iterdir()) == [
        "figure-01.png",
        "figure-02.png",
        "figure-03.png",
        "section.json",
    ]
    # a new section with two figures replaces the result whole: no figure-03 left behind
    again = Section("response", "2026Q3", sec.config.params_path)
    again.figure(fig(), "一")
    again.figure(fig(), "二")
    again.save()
    assert sorted(p.name for p in sec.folder.iterdir()) == [
        "figure-01.png",
        "figure-02.png",
        "section.json",
    ]
    saved = SectionResult.load(sec.folder)
    assert [(b.caption, b.path) for b in saved.blocks if isinstance(b, Figure)] == [
        ("一", "figure-01.png"),
        ("二", "figure-02.png"),
    ]
    assert not [p for p in sec.folder.parent.iterdir() if p.name.startswith(".")]


def test_a_failed_write_keeps_the_previous_result(sec, monkeypatch):
    sec.paragraph("第一次")
    path = sec.save()
    before = path.read_bytes()
    sec.paragraph("第二次")
    monkeypatch.setattr(SectionResult, "to_json", lambda self: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        sec.save()
    assert path.read_bytes() == before
    assert not [p for p in sec.folder.parent.iterdir() if p.name.startswith(".")]


def test_outside_ipython_every_call_is_appended(sec):
    sec.heading("一")
    sec.paragraph("甲")
    sec.heading("一")
    assert [getattr(b, "text", None) for b in sec.result.blocks] == ["一", "甲", "一"]


def test_narrative_shows_its_slot(sec, monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(section_module, "_show_html", shown.append)
    sec.narrative("online", "在线服务响应及时。")
    assert "在线服务响应及时。" in shown[-1]
    assert "文字槽位 <code>response.online</code>" in shown[-1]
    assert "2026Q3_texts.yaml 中替换或补充" in shown[-1]


# -- results -------------------------------------------------------------------------------
def _result(section_id: str = "response", **kw) -> SectionResult:
    s = get_section(section_id)
    m = Metric("phone.service_level", "45秒接通率", "rate", 0.8, 80, 100, 100, Target(">=", 0.8))
    base = SectionResult(section_id, s.title, s.order, "2026Q3", [Heading("小节")], [m])
    return replace(base, **kw)


def test_digest_is_stable_and_ignores_when_and_how(tmp_path):
    r = _result(seconds=1.5, saved_at="2026-10-01T10:00:00+08:00", origin="interactive")
    r.save(tmp_path / "response")
    loaded = SectionResult.load(tmp_path / "response")
    assert loaded == r
    assert loaded.digest() == r.digest() == _result().digest()
    assert _result(blocks=[Heading("别的")]).digest() != r.digest()
    payload = json.loads((tmp_path / "response" / "section.json").read_text(encoding="utf-8"))
    assert payload["origin"] == "interactive" and payload["saved_at"].startswith("2026-10-01")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "已损坏"),
        ("[1, 2]", "格式不对"),
        ('{"section_id": "response"}', "缺少字段"),
        (None, "缺少字段 caption"),
        ("\udcff", "无法读取"),
    ],
)
def test_an_unreadable_result_names_the_section_and_the_file(tmp_path, text, message):
    folder = tmp_path / "response"
    folder.mkdir()
    path = folder / "section.json"
    if text is None:  # a table block without its caption
        payload = json.loads(_result().to_json())
        payload["blocks"] = [{"type": "table", "columns": [], "rows": []}]
        path.write_text(json.dumps(payload), encoding="utf-8")
    elif text == "\udcff":
        path.write_bytes(b"\xff\xfe\x00garbage")
    else:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(ReportError) as e:
        SectionResult.load(folder)
    assert message in str(e.value) and "response" in str(e.value) and str(path) in str(e.value)


def _store(root: Path, *results: SectionResult) -> None:
    for r in results:
        r.save(root / r.section_id)


def test_read_inputs_refuses_missing_failed_and_stale(params):
    from selfcheck.config import load_config

    config = load_config(params)
    root = config.output_dir / "sections"
    summary = get_section("summary")
    with pytest.raises(SectionError) as e:
        read_inputs(config, summary, ["response"])
    assert "章节“服务响应速度”（response）没有本期结果" in str(e.value)

    _store(root, _result(status="failed", error="第 3 个代码单元出错"))
    with pytest.raises(SectionError, match="（response）运行失败：第 3 个代码单元出错"):
        read_inputs(config, summary, ["response"], allow_failed=False)
    assert read_inputs(config, summary, ["response"], allow_failed=True)[0].status == "failed"

    _store(root, _result())
    findings = _result("findings", inputs={"response": "0" * 16})
    _store(root, findings)
    with pytest.raises(SectionError, match="“存在的问题”（findings）的结果比章节“服务响应速度”"):
        read_inputs(config, get_section("measures"), ["findings"])
    _store(root, replace(findings, inputs={"response": _result().figures_digest()}))
    assert [r.section_id for r in read_inputs(config, summary, ["findings", "response"])] == [
        "response",
        "findings",
    ]


def test_check_consistency():
    response = _result()
    summary = _result("summary", inputs={"response": response.figures_digest()})
    assert check_consistency([response, summary]) == []
    # reworded (blocks changed, figures not): the summary built on it still holds
    assert check_consistency([replace(response, blocks=[Heading("改过的")]), summary]) == []
    changed = replace(response, metrics=[])  # a figure changed: the summary is stale
    (message,) = check_consistency([changed, summary])
    assert "“报告摘要”（summary）的结果比章节“服务响应速度”（response）的结果旧" in message
    assert "01_summary.ipynb" in message
    (missing,) = check_consistency([summary])
    assert "没有结果" in missing


def test_read_results_records_inputs(params):
    from selfcheck.config import load_config

    config = load_config(params)
    response = _result()
    _store(config.output_dir / "sections", response)
    summary = Section("summary", "2026Q3", params)
    summary.read_results(["response"])
    assert summary.result.inputs == {"response": response.figures_digest()}
    summary.paragraph("摘要")
    summary.save()
    assert SectionResult.load(summary.folder).inputs == {"response": response.figures_digest()}


def test_a_saved_result_is_read_once_until_it_is_saved_again(tmp_path):
    from selfcheck.results import load_result

    folder = tmp_path / "response"
    _result().save(folder)
    first, digest = load_result(folder)
    again, digest_again = load_result(folder)
    assert again is first and digest_again == digest == _result().figures_digest()
    # the section run again (saved aside, moved in place) with another figure: read anew
    changed = _result(metrics=[replace(_result().metrics[0], value=0.7, numerator=70)])
    changed.save(folder)
    third, digest_third = load_result(folder)
    assert third is not first and third.metrics[0].value == 0.7
    assert digest_third == changed.figures_digest() != digest


def test_figures_digest_follows_every_read_field():
    base = _result()
    for change in (
        {"title": "另一个标题"},
        {"period": "2026Q2"},
        {"status": "failed"},
        {"error": "出错"},
        {"metrics": [replace(base.metrics[0], n=99)]},
    ):
        assert replace(base, **change).figures_digest() != base.figures_digest(), change
    for change in ({"order": 9}, {"seconds": 3.0}, {"warnings": ["提示"]}, {"inputs": {"a": "b"}}):
        assert replace(base, **change).figures_digest() == base.figures_digest(), change


def test_blocks_of_every_type_round_trip(tmp_path):
    t = Table("表", (Column("a", "int", 0, 0.5),), ((1,), (None,)), "注")
    r = _result(blocks=[Heading("h", 2), Paragraph("p", "note"), t, Figure("f", "figure-01.png")])
    r.save(tmp_path / "x")
    assert SectionResult.load(tmp_path / "x") == r
