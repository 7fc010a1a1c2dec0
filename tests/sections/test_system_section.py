"""Section 服务体系建设现状, run in-process on the small sample: figures checked by hand."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from conftest import PERIOD, write_params

from selfcheck.blocks import Figure, Heading, Paragraph, Table
from selfcheck.errors import SectionError
from selfcheck.sections import system

FIRST, LAST = pd.Timestamp("2026-07-01"), pd.Timestamp("2026-09-30")
DAYS = 92
HEADINGS = [
    "服务团队建设情况",
    "培训开展情况",
    "服务标准体系建设情况",
    "系统保障运行情况",
    "业务高峰应对情况",
]
FORBIDDEN = ("nan", "None", "NaT", "{", "}", "TODO")

FACTS = """
facts:
  - name: 核心服务制度文件
    value: 12
    unit: 项
    source: 客户服务中心制度汇编（2026年9月版）
  - name: 服务标准覆盖业务场景比例
    value: 95.5
    unit: "%"
    source: 运营管理部标准梳理台账
  - name: 本季度修订标准条款
    value: 37
    unit: 条
    source: 标准修订记录表
  - name: 师徒带教结对
    value: 9
    unit: 对
    source: 人力资源部带教名单
    area: team
  - name: 异地灾备演练
    value: 已完成
    source: 信息技术部演练报告
    area: systems
"""


NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "02_system.ipynb"


def _run(params: Path):
    """The notebook's cells in order, in-process (the report's blocks, as Papermill runs them)."""
    cells = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    ns: dict = {"period": PERIOD, "params_path": str(params), "branch": ""}
    for cell in cells[1:]:  # after the parameters cell
        exec(compile(cell.source, cell.id, "exec"), ns)
    return ns["sec"]


def _texts(sec) -> list[str]:
    out = []
    for b in sec.result.blocks:
        if isinstance(b, Heading | Paragraph):
            out.append(b.text)
        elif isinstance(b, Table):
            out += [b.caption, b.note or ""] + [
                str(c) for r in b.rows for c in r if isinstance(c, str)
            ]
        elif isinstance(b, Figure):
            out += [b.caption, b.note or ""]
    return out


def _paragraphs(sec) -> str:
    return "\n".join(b.text for b in sec.result.blocks if isinstance(b, Paragraph))


def _table(sec, caption: str) -> Table:
    return next(b for b in sec.result.blocks if isinstance(b, Table) and b.caption == caption)


def _no_forbidden(sec) -> None:
    for text in _texts(sec):
        for bad in FORBIDDEN:
            assert bad not in text, (bad, text)


def _read(root: Path, name: str, period: str = PERIOD) -> pd.DataFrame:
    return pd.read_csv(root / period / f"{name}.csv", dtype=str, keep_default_na=False)


def _ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.replace("", None))


@pytest.fixture(scope="module")
def run(sample_root, tmp_path_factory):
    folder = tmp_path_factory.mktemp("system")
    (folder / f"{PERIOD}_facts.yaml").write_text(FACTS, encoding="utf-8")
    return _run(write_params(folder, sample_root))


def _active(staff: pd.DataFrame, last: pd.Timestamp) -> pd.Series:
    hired, left = _ts(staff["hired_on"]), _ts(staff["left_on"])
    return (hired.isna() | (hired <= last)) & (left.isna() | (left > last))


def test_headings_metrics_and_figures(run):
    headings = [b.text for b in run.result.blocks if isinstance(b, Heading)]
    assert headings == HEADINGS
    ids = {m.metric_id for m in run.result.metrics}
    assert "tickets.peak_ratio" in ids
    assert not {i for i in ids if i.startswith("tickets.")} - {"tickets.peak_ratio"}
    assert {"team.headcount", "training.pass_rate", "system.mttr_minutes"} <= ids
    figures = [b for b in run.result.blocks if isinstance(b, Figure)]
    assert len(figures) == 3
    for f in figures:
        assert (run.folder / f.path).stat().st_size > 10_000
    assert (run.folder / "section.json").exists()
    _no_forbidden(run)


def test_team_by_hand(run, sample_root):
    staff = _read(sample_root, "staff")
    active = _active(staff, LAST)
    a = staff[active]
    hc = int(active.sum())
    by_role = a["role"].value_counts()
    cert = a[a["certified"] != ""]
    cert_rate = (cert["certified"] == "true").mean()
    left = _ts(staff["left_on"])
    hired = _ts(staff["hired_on"])
    at_start = (hired.isna() | (hired < FIRST)) & (left.isna() | (left >= FIRST))
    leavers = int(((left >= FIRST) & (left <= LAST)).sum())
    turnover = leavers / int(at_start.sum())
    tenure = ((LAST - _ts(a["hired_on"])).dt.days / 365.25).mean()

    assert run.metric("team.headcount").value == hc
    assert run.metric("team.headcount.role:frontline").value == by_role["frontline"]
    assert run.metric("team.certified_rate").value == pytest.approx(cert_rate)
    assert run.metric("team.turnover_rate").value == pytest.approx(turnover)
    q2 = _read(sample_root, "staff", "2026Q2")
    assert run.metric("team.headcount").previous == int(
        _active(q2, pd.Timestamp("2026-06-30")).sum()
    )

    text = _paragraphs(run)
    assert f"客户服务在岗人员共{hc}人" in text
    assert f"一线人员{by_role['frontline']}人" in text
    assert f"持证上岗率为{cert_rate * 100:.1f}%" in text
    assert f"平均服务年限为{tenure:.1f}年" in text
    assert f"本季度离职{leavers}人" in text
    assert f"人员流失率为{turnover * 100:.1f}%" in text
    table = _table(run, "服务团队指标")
    assert table.rows[0][:2] == ("人员总数", f"{hc:,}")
    facts = _table(run, "队伍建设补充情况")
    assert facts.rows == (("师徒带教结对", "9对", "人力资源部带教名单"),)


def test_training_by_hand(run, sample_root):
    tr = _read(sample_root, "training")
    tr["hours"] = tr["hours"].astype(float)
    sessions = tr.drop_duplicates("session_id")
    hours = sessions["hours"].sum()
    known = tr[tr["passed"] != ""]
    pass_rate = (known["passed"] == "true").mean()

    assert run.metric("training.sessions").value == len(sessions)
    assert run.metric("training.hours").value == pytest.approx(hours)
    text = _paragraphs(run)
    assert f"本季度共组织培训{len(sessions)}场" in text
    assert f"累计培训时长{hours:.1f}小时" in text
    assert f"参训{len(tr)}人次" in text
    assert f"合计{tr['hours'].sum():,.1f}人时" in text
    assert f"合格率为{pass_rate * 100:.1f}%" in text

    table = _table(run, "本季度培训主题分布")
    rows = {r[0]: r for r in table.rows}
    for topic, g in tr.groupby("topic"):
        k = g[g["passed"] != ""]
        rate = (k["passed"] == "true").mean() if len(k) else None
        row = rows[topic]
        assert row[1] == g["session_id"].nunique()
        assert row[2] == len(g)
        assert row[3] == pytest.approx(g.drop_duplicates("session_id")["hours"].sum())
        assert row[4] == (pytest.approx(rate) if rate is not None else None)
    assert rows["合计"][1:4] == (len(sessions), len(tr), pytest.approx(hours))


def test_standards_facts_with_source(run):
    table = _table(run, "服务标准体系建设情况")
    assert table.rows == (
        ("核心服务制度文件", "12项", "客户服务中心制度汇编（2026年9月版）"),
        ("服务标准覆盖业务场景比例", "95.5%", "运营管理部标准梳理台账"),
        ("本季度修订标准条款", "37条", "标准修订记录表"),
    )
    text = _paragraphs(run)
    assert "核心服务制度文件12项" in text and "服务标准覆盖业务场景比例95.5%" in text
    systems_facts = _table(run, "系统保障补充情况")
    assert systems_facts.rows == (("异地灾备演练", "已完成", "信息技术部演练报告"),)
    assert not run.result.warnings


def test_systems_by_hand(run, sample_root):
    inc = _read(sample_root, "incidents")
    start, end = _ts(inc["started_at"]), _ts(inc["resolved_at"])
    minutes = (end - start).dt.total_seconds() / 60
    major = int((inc["severity"] == "major").sum())
    interrupted = inc["service_interrupted"] == "true"
    hours = minutes[interrupted].sum() / 60

    text = _paragraphs(run)
    assert f"共发生故障{len(inc)}次" in text
    assert f"重大故障{major}次" in text
    assert f"平均修复时长为{minutes.mean():.1f}分钟" in text
    assert f"造成服务中断的故障{int(interrupted.sum())}次，累计中断{hours:.1f}小时" in text
    longest = minutes[interrupted].idxmax()
    assert f"{inc.loc[longest, 'system']}故障，中断{minutes[longest]:.1f}分钟" in text

    table = _table(run, "重大故障及中断时间较长的故障")
    listed = set(inc.index[(inc["severity"] == "major")]) | set(
        minutes[interrupted].sort_values(ascending=False).index[:5]
    )
    assert len(table.rows) == len(listed)
    assert {r[5] for r in table.rows} == {f"{minutes[i]:.1f}分钟" for i in listed}


def test_peak_by_hand(run, sample_root):
    t = _read(sample_root, "tickets")
    daily = _ts(t["created_at"]).dt.normalize().value_counts()
    avg = len(t) / DAYS
    busiest = daily[daily == daily.max()].index.min()
    assert run.metric("tickets.peak_ratio").value == pytest.approx(daily.max() / avg)
    text = _paragraphs(run)
    assert f"日均{avg:.1f}件" in text
    assert f"{busiest.year}年{busiest.month}月{busiest.day}日" in text
    assert f"当日受理{daily.max()}件，为日均水平的{daily.max() / avg:.2f}倍" in text
    peak_days = set(daily.index[daily >= 1.5 * avg])
    assert f"高峰日共{len(peak_days)}天" in text

    c = _read(sample_root, "calls")
    q = pd.to_numeric(c["queue_seconds"])
    day = _ts(c["arrived_at"]).dt.normalize()
    on_peak = day.isin(peak_days)
    answered = c["outcome"] == "answered"
    offered = answered | ((c["outcome"] == "abandoned") & ~(q < 5))
    within = answered & (q <= 45)
    answer_rate = (answered & on_peak).sum() / (offered & on_peak).sum()
    sl = (within & on_peak).sum() / (offered & on_peak).sum()
    assert f"人工接通率{answer_rate * 100:.1f}%、45秒接通率{sl * 100:.1f}%" in text
    table = _table(run, "高峰日与其他日期电话接通情况对比")
    peak_row = table.rows[0]
    assert peak_row[0] == "高峰日" and peak_row[1] == len(peak_days)
    assert peak_row[4] == pytest.approx(answer_rate) and peak_row[5] == pytest.approx(sl)
    all_row = table.rows[2]
    assert all_row[5] == pytest.approx(within.sum() / offered.sum())


def test_no_facts_file_is_said_and_warned(sample_root, tmp_path):
    sec = system.open_section(PERIOD, str(write_params(tmp_path, sample_root)))
    system.standards(sec)
    text = _paragraphs(sec)
    assert "未提供服务标准体系方面的材料" in text and f"{PERIOD}_facts.yaml" in text
    assert any("facts" in w for w in sec.result.warnings)
    _no_forbidden(sec)


@pytest.mark.parametrize(
    ("removed", "headings", "aspects"),
    [
        (
            ("staff", "incidents", "calls"),
            ["培训开展情况", "服务标准体系建设情况", "业务高峰应对情况"],
            "从培训开展、服务标准和业务高峰应对三个方面进行检查",
        ),
        (
            ("training", "tickets"),
            ["服务团队建设情况", "服务标准体系建设情况", "系统保障运行情况"],
            "从服务团队、服务标准和系统保障三个方面进行检查",
        ),
    ],
)
def test_datasets_not_supplied_are_left_out(sample_root, tmp_path, removed, headings, aspects):
    """Datasets not supplied do not apply: their subsections and sentences go."""
    root = tmp_path / "data"
    shutil.copytree(sample_root / PERIOD, root / PERIOD)  # this quarter only: no history, fast
    for name in removed:
        (root / PERIOD / f"{name}.csv").unlink()
    sec = _run(write_params(tmp_path / "run", root))
    text = _paragraphs(sec)
    assert aspects in text
    assert not re.search(r"未提供\w+数据 \(", text)  # no 未提供人员数据 (staff) …
    assert "电话接通情况无法统计" not in text
    assert [b.text for b in sec.result.blocks if isinstance(b, Heading)] == headings
    _no_forbidden(sec)


def test_no_incidents_and_optional_columns_absent(sample_root, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(sample_root / PERIOD, root / PERIOD)  # this quarter only: no history, fast
    folder = root / PERIOD
    inc = _read(sample_root, "incidents")
    inc.iloc[:0].to_csv(folder / "incidents.csv", index=False)  # header only: no incident
    _read(sample_root, "training").drop(columns=["passed", "score"]).to_csv(
        folder / "training.csv", index=False
    )
    _read(sample_root, "calls").drop(columns=["queue_seconds"]).to_csv(
        folder / "calls.csv", index=False
    )
    sec = _run(write_params(tmp_path / "run", root))
    text = _paragraphs(sec)
    assert "本季度客户服务相关系统未发生故障" in text
    overview = next(b.text for b in sec.result.blocks if isinstance(b, Paragraph))
    assert "平均修复时长" not in overview  # no incident to recover is not "missing data"
    assert "培训考核合格率无数据" in text
    assert "缺少列 queue_seconds" in text
    topics = _table(sec, "本季度培训主题分布")
    assert [c.name for c in topics.columns][-1] == "培训时长（小时）"
    _no_forbidden(sec)


def test_block_options_and_wrong_arguments(run):
    before = len(run.result.blocks)
    system.incident_table(run, top=1, max_rows=2, columns=["系统", "持续时长"])
    t = run.result.blocks[-1]
    assert [c.name for c in t.columns] == ["发生时间", "系统", "持续时长"]
    assert sum(c.width for c in t.columns) == pytest.approx(1.0)
    assert len(t.rows) <= 2 and "中断服务时间最长的1次故障" in t.note
    with pytest.raises(SectionError, match="没有这些列：天"):
        system.peak_phone_table(run, columns=["天"])
    assert len(run.result.blocks) == before + 1  # the wrong call added nothing
    del run.result.blocks[before:]


def test_blocks_before_compute_say_so(sample_root, tmp_path):
    sec = system.open_section(PERIOD, str(write_params(tmp_path, sample_root)))
    with pytest.raises(SectionError, match="compute"):
        system.peak(sec)
