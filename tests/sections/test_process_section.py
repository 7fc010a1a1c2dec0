"""Section 服务流程运行效能, run in-process on the small sample: figures checked by hand."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from conftest import PERIOD, write_params

from selfcheck import charts as chart_theme
from selfcheck.blocks import Figure, Heading, Paragraph, SectionResult, Table
from selfcheck.errors import SectionError
from selfcheck.sections import process

END = pd.Timestamp("2026-10-01")
DAY = pd.Timedelta(hours=24)
HEADINGS = ["服务受理环节", "服务处理环节", "服务交付环节", "服务归档环节"]
FORBIDDEN = ("nan", "None", "NaT", "{", "}", "TODO")
CHANNEL_ZH = {
    "phone": "电话",
    "online": "在线/网页",
    "app": "APP",
    "wechat": "微信",
    "email": "邮件",
    "onsite": "现场",
    "social": "社交媒体",
    "other": "其他",
}
SLA_HOURS = {"L1": 2, "L2": 24, "L3": 48}
SLOTS = {"overview", "intake", "categories", "sla", "handling", "backlog", "delivery", "archive"}


# -- running the section ------------------------------------------------------------------


NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "03_process.ipynb"


def run_section(params: Path):
    """The notebook's cells in order, in-process (the report's blocks, as Papermill runs them)."""
    cells = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.cell_type == "code"]
    ns: dict = {"period": PERIOD, "params_path": str(params), "branch": ""}
    for cell in cells[1:]:  # after the parameters cell
        exec(compile(cell.source, cell.id, "exec"), ns)
    return ns["sec"]


@pytest.fixture(scope="module")
def sec(sample_root, tmp_path_factory):
    return run_section(write_params(tmp_path_factory.mktemp("process"), sample_root))


def copy_sample(sample_root: Path, dest: Path) -> Path:
    shutil.copytree(sample_root, dest)
    return dest


def blocks(sec, kind):
    return [b for b in sec.result.blocks if isinstance(b, kind)]


def table(sec, caption_start: str) -> Table:
    found = [t for t in blocks(sec, Table) if t.caption.startswith(caption_start)]
    assert len(found) == 1, [t.caption for t in blocks(sec, Table)]
    return found[0]


def text(sec) -> str:
    return "\n".join(p.text for p in blocks(sec, Paragraph))


def paragraph_with(sec, needle: str) -> str:
    found = [p.text for p in blocks(sec, Paragraph) if needle in p.text]
    assert found, needle
    return found[0]


def all_strings(sec) -> list[str]:
    out = []
    for b in sec.result.blocks:
        if isinstance(b, Heading | Paragraph):
            out.append(b.text)
        elif isinstance(b, Table):
            out += [b.caption, b.note or ""]
            out += [c.name for c in b.columns]
            out += [v for r in b.rows for v in r if isinstance(v, str)]
        elif isinstance(b, Figure):
            out += [b.caption, b.note or ""]
    return out


def pct(x: float) -> str:
    return f"{x * 100:.1f}%"


# -- hand computations from the CSVs ------------------------------------------------------


def read(root: Path, period: str, name: str) -> pd.DataFrame:
    return pd.read_csv(root / period / f"{name}.csv", dtype=str, keep_default_na=False).replace(
        "", np.nan
    )


def ts(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s)


def boolean(s: pd.Series) -> pd.Series:
    return s.map({"true": True, "false": False})


def hand_sla(df: pd.DataFrame, level: str) -> tuple[int, int]:
    """(met, breached) of one level, calendar clock, state at 2026-10-01 00:00."""
    d = df[df["level"] == level]
    created = ts(d["created_at"])
    resolved = ts(d["resolved_at"]).where(lambda x: x < END)
    done = resolved
    if level == "L3":
        done = ts(d["plan_at"]).where(lambda x: x < END).fillna(resolved)
    elapsed = (done.fillna(END) - created).dt.total_seconds()
    limit = SLA_HOURS[level] * 3600
    met = int((done.notna() & (elapsed <= limit)).sum())
    breached = int((elapsed > limit).sum())
    return met, breached


def hand_rate(df: pd.DataFrame, column: str) -> float:
    b = boolean(df[column]).dropna()
    return b.sum() / len(b)


def hand_repeat(df: pd.DataFrame) -> float:
    d = df[["ticket_id", "customer_id", "created_at"]].dropna(subset=["customer_id"]).copy()
    d["t"] = ts(d["created_at"])
    pairs = d.merge(d, on="customer_id", suffixes=("", "_other"))
    gap = pairs["t"] - pairs["t_other"]
    hits = pairs[(gap > pd.Timedelta(0)) & (gap <= 7 * DAY)]["ticket_id"].nunique()
    return hits / len(d)


def hand_ticket_archive(df: pd.DataFrame) -> float:
    closed = ts(df["closed_at"]).where(lambda x: x < END)
    resolved = ts(df["resolved_at"]).where(lambda x: x < END)
    ref = closed.fillna(resolved)
    archived = ts(df["archived_at"]).where(lambda x: x < END)
    base = ref.notna()
    late_archived = archived.notna() & ((archived - ref) > DAY)
    late_open = archived.isna() & ((END - ref) > DAY)
    late = base & (late_archived | late_open)
    pending = base & archived.isna() & ~late_open
    return late.sum() / (base & ~pending).sum()


# -- the sample run -----------------------------------------------------------------------


def test_headings_slots_and_figures(sec):
    assert [h.text for h in blocks(sec, Heading)] == HEADINGS
    assert all(h.level == 1 for h in blocks(sec, Heading))
    figures = blocks(sec, Figure)
    assert [f.caption for f in figures] == [
        "各受理渠道工单占比及较上季度变化",
        "工单分级处理时效达标率与目标",
    ]
    for f in figures:
        assert (sec.folder / f.path).stat().st_size > 10_000
    assert (sec.folder / "section.json").exists()


def test_no_forbidden_strings(sec):
    for s in all_strings(sec):
        for bad in FORBIDDEN:
            assert bad not in s, (bad, s)


def test_metric_ids_exclude_other_sections(sec):
    ids = {m.metric_id for m in sec.result.metrics}
    assert "tickets.peak_ratio" not in ids
    for other in ("visits.total", "visits.confirm_late_rate", "visits.eta_notice_rate"):
        assert other not in ids
    assert {"tickets.sla_rate.L1", "visits.node_completion_rate", "tickets.backlog"} <= ids
    assert all(m.section == "process" for m in sec.result.metrics)


def test_channel_mix_by_hand(sec, sample_root):
    now = read(sample_root, PERIOD, "tickets")
    before = read(sample_root, "2026Q2", "tickets")
    t = table(sec, "工单受理渠道构成")
    rows = {r[0]: r for r in t.rows}
    assert rows["合计"][1] == len(now)
    for code, zh in CHANNEL_ZH.items():
        count = int((now["channel"] == code).sum())
        share = count / len(now)
        prev = int((before["channel"] == code).sum()) / len(before)
        _, n, s, p, d = rows[zh]
        assert n == count
        assert s == pytest.approx(share)
        assert p == pytest.approx(prev)
        assert d == pytest.approx(share - prev)
    intake = paragraph_with(sec, "本季度共受理工单")
    assert f"本季度共受理工单{len(now):,}件" in intake
    top = now["channel"].value_counts().index[0]
    top_count = int((now["channel"] == top).sum())
    assert f"{CHANNEL_ZH[top]}渠道{top_count:,}件（占{pct(top_count / len(now))}）" in intake


def test_intake_rates_by_hand(sec, sample_root):
    df = read(sample_root, PERIOD, "tickets")
    intake = paragraph_with(sec, "本季度共受理工单")
    bot, transfer, repeat = (
        hand_rate(df, "resolved_by_bot"),
        hand_rate(df, "transferred_to_human"),
        hand_repeat(df),
    )
    assert sec.metric("tickets.bot_resolution_rate").value == pytest.approx(bot)
    assert sec.metric("tickets.repeat_contact_rate").value == pytest.approx(repeat)
    assert f"智能客服解决率为{pct(bot)}" in intake
    assert f"转人工率为{pct(transfer)}" in intake
    assert f"跨渠道重复来访率为{pct(repeat)}，达到≤10.0%的目标" in intake
    rows = {r[0]: r for r in table(sec, "受理环节主要指标").rows}
    assert rows["智能客服解决率"][1] == pct(bot)
    assert rows["跨渠道重复来访率"][1:4] == (pct(repeat), "≤10.0%", "达标")


def test_categories_by_hand(sec, sample_root):
    df = read(sample_root, PERIOD, "tickets")
    counts = df["category"].dropna().value_counts()
    counts = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    t = table(sec, "工单问题类别分布")
    assert [(r[1], r[2]) for r in t.rows] == [(k, v) for k, v in counts]
    for r, (_, v) in zip(t.rows, counts, strict=True):
        assert r[3] == pytest.approx(v / len(df))
    cat = paragraph_with(sec, "从问题类别看")
    k, v = counts[0]
    assert f"{k}（{v:,}件，占{pct(v / len(df))}）" in cat


def test_sla_by_hand(sec, sample_root):
    df = read(sample_root, PERIOD, "tickets")
    t = table(sec, "工单分级处理时效达标情况")
    para = paragraph_with(sec, "工单实行分级处理")
    assert "自然时间连续计时" in para and "自然时间连续计时" in (t.note or "")
    for row, level in zip(t.rows, ("L1", "L2", "L3"), strict=True):
        met, breached = hand_sla(df, level)
        rate = met / (met + breached)
        assert row[0].startswith(level)
        assert (row[2], row[3]) == (met, breached)
        assert row[4] == pytest.approx(rate)
        assert row[6] == ("达标" if rate >= {"L1": 0.95}.get(level, 0.85) else "未达标")
        assert f"{level}工单时效达标率{pct(rate)}（按时办结{met:,}件、超时{breached:,}件）" in para


def test_handling_by_hand(sec, sample_root):
    df = read(sample_root, PERIOD, "tickets")
    handoffs = pd.to_numeric(df["handoffs"]).dropna().mean()
    resolved = ts(df["resolved_at"]) < END
    reopen = (boolean(df["reopened"]).fillna(False) & resolved).sum() / resolved.sum()
    escal = hand_rate(df, "escalated")
    para = paragraph_with(sec, "工单平均流转")
    assert f"工单平均流转{handoffs:.2f}个环节，达到≤4.40个的目标" in para
    assert f"重开率为{pct(reopen)}" in para
    assert f"升级率为{pct(escal)}" in para
    median = (ts(df["first_response_at"]) - ts(df["created_at"])).dt.total_seconds().dropna()
    assert f"首次响应时长中位数为{np.median(median) / 60:.1f}分钟" in para


def test_delivery_and_archive_by_hand(sec, sample_root):
    v = read(sample_root, PERIOD, "visits")
    both = v[["nodes_total", "nodes_done"]].apply(pd.to_numeric).dropna()
    nodes = both["nodes_done"].sum() / both["nodes_total"].sum()
    done = v[v["completed_at"].notna()]
    acc = boolean(done["accepted"]).dropna()
    dis = boolean(done["dissatisfied"]).dropna()
    gap = ts(done["archived_at"]) - ts(done["completed_at"])
    v_late = (gap.isna() | (gap > DAY)).sum() / len(done)
    t_late = hand_ticket_archive(read(sample_root, PERIOD, "tickets"))

    para = paragraph_with(sec, "关键节点完成率")
    assert f"关键节点完成率为{pct(nodes)}" in para
    assert f"（应完成节点{int(both['nodes_total'].sum()):,}个" in para
    assert f"验收单签署率为{pct(acc.mean())}" in para
    assert f"客户对服务效果不满意率为{pct(dis.mean())}（{len(dis):,}单中" in para
    rows = {r[0]: r for r in table(sec, "交付环节主要指标").rows}
    assert rows["关键节点完成率"][1:3] == (pct(nodes), "≥98.0%")
    assert rows["服务效果不满意率"][1] == pct(dis.mean())

    arch = paragraph_with(sec, "归档超时率")
    assert f"工单归档超时率为{pct(t_late)}" in arch
    assert f"现场服务归档超时率为{pct(v_late)}" in arch
    rows = {r[0]: r for r in table(sec, "归档管理指标").rows}
    assert rows["工单归档超时率"][1] == pct(t_late)
    assert rows["现场服务归档超时率"][1] == pct(v_late)


def test_overview_counts_targets(sec):
    targeted = [m for m in sec.result.metrics if m.target is not None]
    overview = blocks(sec, Paragraph)[0].text
    assert f"设有目标的流程指标共{len(targeted)}项" in overview
    assert "覆盖工单1,000件" in overview


# -- variants ----------------------------------------------------------------------------


def test_without_tickets_and_visits_the_section_is_left_out(sample_root, tmp_path):
    """Neither dataset supplied: not applicable, so the section saves nothing (and the
    report leaves it out); no 无数据 sentence."""
    root = copy_sample(sample_root, tmp_path / "data")
    (root / PERIOD / "tickets.csv").unlink()
    (root / PERIOD / "visits.csv").unlink()
    sec = run_section(write_params(tmp_path / "run", root))
    assert not blocks(sec, Heading)  # every subsection needs tickets or visits
    assert "未提供" not in text(sec)
    saved = SectionResult.load(sec.folder)
    assert saved.blocks == [] and saved.metrics == []


def test_without_visits_delivery_goes_and_archive_keeps_tickets(sample_root, tmp_path):
    root = copy_sample(sample_root, tmp_path / "data")
    (root / PERIOD / "visits.csv").unlink()
    sec = run_section(write_params(tmp_path / "run", root))
    assert [h.text for h in blocks(sec, Heading)] == [
        "服务受理环节",
        "服务处理环节",
        "服务归档环节",
    ]
    assert "按受理、处理、归档三个环节开展自查" in text(sec)
    assert [r[0] for r in table(sec, "归档管理指标").rows] == ["工单归档超时率"]
    assert "现场服务" not in text(sec) and "visits" not in text(sec)
    for s in all_strings(sec):
        for bad in FORBIDDEN:
            assert bad not in s, (bad, s)


def test_quarter_without_tickets(sample_root, tmp_path):
    root = copy_sample(sample_root, tmp_path / "data")
    path = root / PERIOD / "tickets.csv"
    path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    sec = run_section(write_params(tmp_path / "run", root))
    body = text(sec)
    assert "本季度未受理工单，受理渠道构成及受理环节指标无法计算。" in body
    assert "本季度未受理工单，分级处理时效及处理环节指标无法计算。" in body
    assert "关键节点完成率为" in body  # on-site delivery is still described
    assert [f.caption for f in blocks(sec, Figure)] == []
    for s in all_strings(sec):
        for bad in FORBIDDEN:
            assert bad not in s, (bad, s)


def test_missing_columns_and_backlog_by_hand(sample_root, tmp_path):
    root = copy_sample(sample_root, tmp_path / "data")
    path = root / PERIOD / "tickets.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    open_rows = df.index[::25]  # 40 tickets spread over the quarter
    df.loc[open_rows, ["resolved_at", "plan_at", "closed_at", "archived_at"]] = ""
    df = df.drop(columns=["category", "customer_id"])
    df.to_csv(path, index=False)
    vpath = root / PERIOD / "visits.csv"
    v = pd.read_csv(vpath, dtype=str, keep_default_na=False).drop(columns=["nodes_total"])
    v.to_csv(vpath, index=False)

    sec = run_section(write_params(tmp_path / "run", root))
    body = text(sec)
    assert "工单数据缺少“问题类别”列（category）" in body
    assert "跨渠道重复来访率无数据（缺少列 customer_id（客户编号））" in body
    assert "关键节点完成率无数据（缺少列 nodes_total（关键节点数））" in body

    age = (END - ts(df.loc[open_rows, "created_at"])).dt.total_seconds() / 3600
    buckets = [
        int((age <= 24).sum()),
        int(((age > 24) & (age <= 72)).sum()),
        int(((age > 72) & (age <= 168)).sum()),
        int((age > 168).sum()),
    ]
    t = table(sec, "期末未结工单账龄分布")
    assert [r[1] for r in t.rows] == [*buckets, 40]
    for r, b in zip(t.rows[:4], buckets, strict=True):
        assert r[2] == pytest.approx(b / 40)
    para = paragraph_with(sec, "未办结")
    assert buckets[3] > 0 and f"超过7天的积压工单{buckets[3]}件" in para
    assert "尚有40件未办结" in para and f"占工单总量的{pct(40 / len(df))}" in para
    for s in all_strings(sec):
        for bad in FORBIDDEN:
            assert bad not in s, (bad, s)


def test_shortfall_is_red_and_named(sample_root, tmp_path, monkeypatch):
    seen = []
    real = chart_theme.bar_colors

    def spy(short):
        seen.append(list(short))
        return real(short)

    monkeypatch.setattr(chart_theme, "bar_colors", spy)
    params = write_params(tmp_path, sample_root, thresholds="{sla_hours: {L1: 0.5}}")
    sec = run_section(params)
    l1 = sec.metric("tickets.sla_rate.L1")
    assert l1.status == "未达标"
    assert seen == [[True, False, False]]
    rows = table(sec, "工单分级处理时效达标情况").rows
    assert rows[0][1] == "30分钟" and rows[0][6] == "未达标"
    overview = blocks(sec, Paragraph)[0].text
    assert f"L1工单时效达标率为{pct(l1.value)}，未达到≥95.0%的目标" in overview
    assert "L1工单时效未达到目标" in paragraph_with(sec, "工单实行分级处理")


def test_every_slot_can_be_replaced_by_the_analyst(sample_root, tmp_path):
    lines = ["replace:"] + [
        f"  process.{slot}: 分析人员改写的{slot}段落。" for slot in sorted(SLOTS)
    ]
    (tmp_path / f"{PERIOD}_texts.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    root = copy_sample(sample_root, tmp_path / "data")
    df = pd.read_csv(root / PERIOD / "tickets.csv", dtype=str, keep_default_na=False)
    df.loc[df.index[::50], ["resolved_at", "plan_at"]] = ""  # a backlog, so its slot is used
    df.to_csv(root / PERIOD / "tickets.csv", index=False)
    sec = run_section(write_params(tmp_path, root))  # save() rejects unknown slots
    body = text(sec)
    for slot in SLOTS:
        assert f"分析人员改写的{slot}段落。" in body


def test_business_clock_is_stated(sample_root, tmp_path):
    params = write_params(tmp_path, sample_root, thresholds="{sla_clock: business}")
    sec = run_section(params)
    para = paragraph_with(sec, "工单实行分级处理")
    assert "仅计工作时间" in para and "09:00—18:00" in para


def test_table_options_and_wrong_arguments(sec):
    before = len(sec.result.blocks)
    process.channel_table(sec, columns=["占比"])
    t = sec.result.blocks[-1]
    assert [c.name for c in t.columns] == ["受理渠道", "占比"]
    assert sum(c.width for c in t.columns) == pytest.approx(1.0)
    assert t.rows[-1][0] == "合计" and t.rows[-1][1] == 1.0
    with pytest.raises(SectionError, match="没有这些列：份额"):
        process.sla_table(sec, columns=["份额"])
    assert len(sec.result.blocks) == before + 1  # the wrong call added nothing
    del sec.result.blocks[before:]


def test_blocks_before_compute_say_so(sample_root, tmp_path):
    fresh = process.open_section(PERIOD, str(write_params(tmp_path, sample_root)))
    with pytest.raises(SectionError, match="compute"):
        process.intake(fresh)
