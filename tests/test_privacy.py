"""Masking of personal data in free text: what must be masked, how, and what must not be."""

from __future__ import annotations

import pandas as pd
import pytest

from selfcheck.privacy import mask, mask_series

MASKED = [
    # mobile numbers: first 3 and last 4 kept
    ("联系电话13812345678。", "联系电话138****5678。"),
    ("我的手机号是15745146005，谢谢。", "我的手机号是157****6005，谢谢。"),
    ("电话：19904827198", "电话：199****7198"),
    ("138 1234 5678", "138****5678"),
    ("138-1234-5678", "138****5678"),
    ("138 12345678", "138****5678"),
    ("+86 138 1234 5678", "+86 138****5678"),
    ("+86-138-1234-5678", "+86-138****5678"),
    ("+8613812345678", "+86138****5678"),
    ("8613812345678", "86138****5678"),
    ("008613812345678", "0086138****5678"),
    ("(+86)13812345678", "(+86)138****5678"),
    ("（+86）13812345678", "（+86）138****5678"),
    ("１３８１２３４５６７８", "138****5678"),  # full-width digits
    ("１３８－１２３４－５６７８", "138****5678"),
    ("回电13812345678或13987654321", "回电138****5678或139****4321"),
    ("电话13812345678.", "电话138****5678."),
    # landlines: area code and last 4 kept
    ("010-12345678", "010-****5678"),
    ("座机010-12345678转总机", "座机010-****5678转总机"),
    ("0755 1234 5678", "0755 **** 5678"),
    ("0755-1234567", "0755-****4567"),
    ("021-1234-5678", "021-****-5678"),
    ("(021)12345678", "(021)****5678"),
    ("（010）12345678", "（010）****5678"),
    ("075512345678", "0755****5678"),
    ("０７５５－１２３４５６７８", "0755-****5678"),
    # e-mail: first character of the local part and the domain kept
    ("邮箱zhuhong312@qq.com。", "邮箱z***@qq.com。"),
    ("zhang.san@example.com.cn", "z***@example.com.cn"),
    ("Mail: Li_Ming+cs@163.com谢谢", "Mail: L***@163.com谢谢"),
    ("13812345678@139.com", "1***@139.com"),  # a phone number as local part: still one address
    ("ｚｈａｎｇ＠ｑｑ．ｃｏｍ", "z***@qq.com"),
    # ID-card numbers: first 3 and last 4 kept, X included
    ("身份证号码330106199403247106。", "身份证号码330***********7106。"),
    ("33010619940324710X", "330***********710X"),
    ("33010619940324710x", "330***********710x"),
    ("110101200001011234", "110***********1234"),
    ("330106 19940324 7106", "330***********7106"),
    ("３３０１０６１９９４０３２４７１０Ｘ", "330***********710X"),
    # bank cards of 16–19 digits: last 4 kept, grouping kept
    ("卡号6222021234567890", "卡号************7890"),
    ("6222 0212 3456 7890", "**** **** **** 7890"),
    ("6222-0212-3456-7890", "****-****-****-7890"),
    ("6217001234567890123", "***************0123"),
    ("62170012345678901", "*************8901"),
    ("退款到6222 0212 3456 7890 123。", "退款到**** **** **** ***0 123。"),
]

NOT_MASKED = [
    "金额1,280元",
    "多扣了1280元",
    "2026-09-30",
    "2026年9月30日 13:45",
    "2026/09/30",
    "订单号12345678",
    "订单 12345678 87654321",
    "工单号 TK2026093000012",
    "GD13812345678",  # letters before: an order code, not a phone
    "13812345678AB",
    "12345678901234567890123",  # a 23-digit reference: never half-masked
    "213812345678",  # 12 digits: not a mobile number
    "1381234567",  # 10 digits
    "账单编号20260930001",
    "等了3天，打了15次电话",
    "评分5分，满意度95.3%",
    "0.5元/分钟",
    "第10086号",
    "@客服小王",
    "邮件请发至客服邮箱",
    "",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_masked(text, expected):
    assert mask(text) == expected


@pytest.mark.parametrize("text", NOT_MASKED)
def test_not_masked(text):
    assert mask(text) == text


def test_an_id_card_is_not_taken_for_a_phone_or_a_card():
    # 13812199001 inside the ID looks like a mobile number; the ID is masked as one ID
    assert mask("身份证513812199001011234") == "身份证513***********1234"
    assert mask("身份证51381219900101123X号") == "身份证513***********123X号"
    # 18 digits that are no ID (no valid date of birth) are a bank card
    assert mask("330113812345678906") == "**************8906"


def test_chinese_punctuation_is_kept():
    text = "电话（手机）：13812345678！谢谢，再见。"
    assert mask(text) == "电话（手机）：138****5678！谢谢，再见。"


def test_several_kinds_in_one_text():
    text = (
        "我是张三，电话13812345678，邮箱zs@abc.cn，身份证110101199001011234，卡号6222021234567890。"
    )
    assert mask(text) == (
        "我是张三，电话138****5678，邮箱z***@abc.cn，身份证110***********1234，"
        "卡号************7890。"
    )


def test_mask_is_idempotent():
    for _, expected in MASKED:
        assert mask(expected) == expected


def test_series_matches_scalar_and_keeps_missing():
    texts = [t for t, _ in MASKED] + NOT_MASKED
    s = pd.Series([*texts, None], index=range(10, 10 + len(texts) + 1), dtype="object")
    out = mask_series(s)
    assert list(out.index) == list(s.index)
    assert out.iloc[:-1].tolist() == [mask(t) for t in texts]
    assert pd.isna(out.iloc[-1])


def test_series_of_string_dtype():
    s = pd.Series(["电话13812345678", pd.NA], dtype="string")
    out = mask_series(s)
    assert out.iloc[0] == "电话138****5678"
    assert pd.isna(out.iloc[1])
