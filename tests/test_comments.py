"""Survey comment themes and the choice of representative comments (hand-checked)."""

from __future__ import annotations

import re

import pandas as pd

from selfcheck import comments

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
ID_CARD = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def _surveys(rows):
    return pd.DataFrame(
        rows, columns=["response_id", "overall", "segment", "customer_id", "comment"]
    ).astype({"comment": "string", "segment": "string", "customer_id": "string"})


SURVEYS = _surveys(
    [
        ("R01", 1, "个人", "C001", "电话排队时间太长，等了快十分钟才接通。联系电话13812345678。"),
        ("R02", 1, "小微企业", "C002", "电话排队时间太长，等了快十分钟才接通。希望尽快改进。"),
        ("R03", 2, "个人", "C003", "账单金额和实际使用对不上，解释不清楚。邮箱zhuhong312@qq.com。"),
        ("R04", 2, None, "C004", "客服态度生硬，问了几遍都不耐烦。身份证330106199403247106。"),
        ("R05", 3, "个人", "C005", "建议增加夜间人工客服。"),
        ("R06", 4, "个人", "C006", "建议增加夜间人工客服。"),
        ("R07", 5, "大客户", "C007", "客服人员态度很好，耐心解答了我的问题，非常满意。"),
        ("R08", 5, "个人", "C008", "对处理结果不满意。"),
        ("R09", 5, "个人", "C009", "   "),
        ("R10", 4, "个人", "C010", None),
        ("R11", 5, "个人", "C011", "服务很贴心😊下次还会选择你们。"),
        ("R12", None, "个人", "C012", "希望APP能直接查询工单进度。"),
    ]
)


def test_clean_drops_blank_and_emoji_and_collapses_whitespace():
    out = comments.clean(pd.Series(["  a\n\n b ", "   ", None, "很贴心😊下次"]))
    assert out.iloc[0] == "a b"
    assert pd.isna(out.iloc[1]) and pd.isna(out.iloc[2])
    assert out.iloc[3] == "很贴心下次"


def test_theme_flags():
    flags = comments.theme_flags(SURVEYS["comment"])
    assert flags.loc[0, "等待时间"] and flags.loc[1, "等待时间"]
    assert flags.loc[2, "收费与账单"]
    assert flags.loc[3, "服务态度"]
    assert flags.loc[4, "意见建议"]
    assert flags.loc[6, "表扬"] and flags.loc[6, "服务态度"]
    assert not flags.loc[7, "表扬"]  # 不满意 is not praise
    assert flags.loc[11, "线上渠道"]  # APP, any case
    assert not flags.loc[9].any()  # no comment


def test_theme_table_by_hand():
    table = comments.theme_table(SURVEYS["comment"], SURVEYS["overall"]).set_index("theme")
    n = 10  # non-blank comments: R01–R08, R11, R12
    flags = comments.theme_flags(comments.clean(SURVEYS["comment"]))
    # 等待时间: R01, R02 (scores 1, 1)
    assert table.loc["等待时间", "mentions"] == 2
    assert table.loc["等待时间", "share"] == 2 / n
    assert table.loc["等待时间", "mean_score"] == 1.0
    # 意见建议: R02 (1, 希望尽快改进), R05 (3), R06 (4), R12 (希望, no score)
    assert table.loc["意见建议", "mentions"] == 4
    assert table.loc["意见建议", "mean_score"] == (1 + 3 + 4) / 3
    # every theme counted as the comments flagged with it
    for theme, row in table.iterrows():
        assert row["mentions"] == int(flags[theme].sum())
    assert list(table["mentions"]) == sorted(table["mentions"], reverse=True)
    assert "故障处理" not in table.index  # themes with no mention are left out


def test_representative_lowest_first_deduplicated_masked_without_ids():
    out = comments.representative(SURVEYS, lowest=3, top_themes=2, per_theme=1)
    assert list(out.columns) == ["text", "overall", "segment", "reason"]
    # the lowest three, duplicates of the same first sentence skipped (R02 repeats R01)
    assert out["reason"].head(3).tolist() == ["评分最低"] * 3
    assert out["overall"].head(3).tolist() == [1, 2, 2]
    firsts = out["text"].str.split("。").str[0]
    assert firsts.is_unique
    assert out.loc[0, "text"] == "电话排队时间太长，等了快十分钟才接通。联系电话138****5678。"
    assert "z***@qq.com" in out.loc[1, "text"]
    assert "330***********7106" in out.loc[2, "text"]
    text = " ".join(out["text"])
    assert not MOBILE.search(text) and not EMAIL.search(text) and not ID_CARD.search(text)
    assert "C0" not in out.to_string()  # no customer ids


def test_representative_per_theme():
    out = comments.representative(SURVEYS, lowest=0, top_themes=1, per_theme=1)
    table = comments.theme_table(SURVEYS["comment"], SURVEYS["overall"])
    top = table["theme"].iloc[0]
    # the most frequent theme gets two comments, both of that theme, deduplicated
    assert out["reason"].tolist() == [top, top]
    flags = comments.theme_flags(out["text"])
    assert flags[top].all()
    assert out["text"].is_unique


def test_representative_without_comments():
    assert comments.representative(SURVEYS.drop(columns="comment")).empty
    blank = SURVEYS.assign(comment=pd.Series([None] * len(SURVEYS), dtype="string"))
    assert comments.representative(blank).empty


def test_trim():
    long = "很长的留言，" * 30
    out = comments.trim(pd.Series([long, "短。", None]), max_chars=40)
    assert out.iloc[0].endswith("……") and len(out.iloc[0]) <= 42
    assert out.iloc[1] == "短。"
    assert pd.isna(out.iloc[2])
    sentences = "第一句话说得比较长一些，共有二十个字。" + "第二句话" * 20
    cut = comments.trim(pd.Series([sentences]), max_chars=30).iloc[0]
    assert cut == "第一句话说得比较长一些，共有二十个字。"  # cut at the sentence end
