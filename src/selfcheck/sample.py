"""Sample data: a realistic, deterministic period of customer-service records.

``generate("2026Q3", root)`` writes ``root/<period>/<dataset>.csv`` for the ten
datasets of :data:`selfcheck.schema.DATASETS`, for the period and (by default)
the four quarters before it, so that QoQ and YoY comparisons exist. Any kind of
period works the same way (``2026-07``, ``2026H1``, ``2026``): the model below is
sized per quarter, and a month gets a third of a quarter's volume, a year four
quarters' (each quarter's promotion week, one induction session a month), with the
periods of the same kind before it that its comparisons need (:func:`default_history`).
A quarter's files are exactly what they were before other kinds existed.

The model, briefly:

* **Arrivals.** Every dataset with an arrival time draws its records from a
  day × hour intensity grid over the quarter: workdays of the Chinese working
  calendar (:class:`~selfcheck.calendar.WorkCalendar`, so 调休 Saturdays are
  workdays and statutory holidays are not) are busier than weekends and
  holidays, the hourly profile peaks around 10:00 and 15:00 and is quiet but
  not empty at night, each day carries a little noise shared by all channels,
  and one promotion week in the quarter's second month has ~2.5× volume.
  Counts per cell come from one multinomial draw, times within the hour are
  uniform, and the result is sorted, so ids follow time.
* **Durations** (ring, queue, talk, chat response, resolution, arrival,
  complaint handling …) are lognormal. Phone queues grow with a per-hour
  staffing *pressure* (peaks, lunch, thin night shift, the promotion week
  with only part of its extra volume staffed), so the 45-second service level
  is worst in the promotion week; patience is exponential, so abandonment
  follows the queue. Complaint handling is drawn in *working days* and
  mapped back onto the calendar with working hours 09:00–18:00.
* **People.** One roster per (seed, scale) spans 1960–2099 (monthly batch
  hiring, a mix of short and long tenures), so agent ids are stable across
  quarters; the ``staff`` file is its snapshot at the period end (leaving
  dates after the period end are not yet known; people who left in the
  90 days before the period are still listed). Work records are assigned to
  frontline agents who were employed at the record's time.
* **Customers** come from a pool whose segment (大客户, 中小企业, 小微企业, 个人)
  is a fixed function of the customer; a share of tickets deliberately
  re-uses the customer of a ticket from the previous days (repeat contacts
  across channels). Surveys, complaints and visits refer to tickets created
  before them in the same quarter.
* **Drift and shortfalls.** Parameters drift with the distance from 2026Q3
  (volume grows 1.5 % a quarter with a seasonal factor; some rates improve,
  some worsen) plus a little per-quarter noise. A few shortfalls are built in
  every quarter; in 2026Q3 with the default seed: phone 45-second service
  level ≈ 76 % (worst in the promotion week), off-hours chat timeout ≈ 8 %,
  suburb emergency visits late ≈ 10 % (emergency late rate ≈ 7 %), mean
  complaint handling ≈ 6 working days, QA critical error rate ≈ 1.5 %, one
  major incident. Most other metrics meet the default targets of
  ``metrics.md``. Because complaints take ~6 working days, those received in
  the last days of the quarter are still open at its end.
* **Free text.** Ticket categories, and survey comments from templates chosen
  by the score (praise, waiting, billing, attitude, suggestions); ~5 % carry
  a mobile number, some an e-mail address, a few an 18-digit ID-card number
  (with a valid check digit), and a few templates hold ``<``, ``&``, quotes
  or an emoji.

* **A group of branches** (:func:`generate_group`): branch k (``b01`` … ``bNN``,
  :func:`group_branches`) is this model with seed ``seed + k``, its volumes and staff
  scaled by a size factor spread from 0.4 to 1.6, and a profile: weak in two areas
  (slower phone answering, slower off-hours chat replies, slower ticket handling, late
  visits, slower complaint handling, lower satisfaction scores or more QA critical
  errors), like the single organisation in one, strong in the others; its record ids
  carry its number, so no two branches share an agent, customer or ticket id.

Everything is vectorised over rows (numpy, pyarrow compute; ids are built as
fixed-width bytes), and files are written with pyarrow's CSV writer: UTF-8
without BOM, canonical header in schema order, ``YYYY-MM-DD HH:MM:SS``,
``YYYY-MM-DD``, ``true``/``false``, empty for missing. Each file is written to
a temporary file and moved into place. Random numbers come from a separate
generator per (seed, period, dataset), so each quarter is stable on its own:
the same arguments give byte-identical files.
"""

from __future__ import annotations

import json
import os
import tempfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from statistics import NormalDist
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from selfcheck.calendar import WorkCalendar
from selfcheck.errors import ParamsError
from selfcheck.period import Period
from selfcheck.schema import (
    AREAS,
    CALL_OUTCOMES,
    CHANNELS,
    COMPLAINT_TYPES,
    DATASETS,
    LEVELS,
    QA_SOURCES,
    ROLES,
    SEVERITIES,
    VISIT_KINDS,
)

__all__ = [
    "MAX_BRANCHES",
    "SCALES",
    "Branch",
    "ScaleName",
    "generate",
    "generate_group",
    "group_branches",
]

ScaleName = Literal["small", "default", "large"]


# ---------------------------------------------------------------------------
# sizes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Size:
    """Nominal sizes of one quarter (2026Q3; other quarters drift around them)."""

    tickets: int
    calls: int
    chats: int
    surveys: int
    complaints: int
    visits: int
    staff: int  # target headcount of the roster
    training_sessions: int
    incidents: int
    customers: int  # size of the customer pool


_SIZES: dict[str, _Size] = {
    "small": _Size(1_000, 4_000, 2_000, 400, 150, 200, 55, 6, 12, 8_000),
    "default": _Size(50_000, 200_000, 100_000, 8_000, 3_000, 4_000, 200, 20, 15, 400_000),
    "large": _Size(
        1_000_000, 10_000_000, 2_000_000, 200_000, 60_000, 80_000, 5_000, 200, 24, 8_000_000
    ),
}

SCALES: dict[str, dict[str, int]] = {
    "small": {
        "tickets": 1_000,
        "calls": 4_000,
        "chats": 2_000,
        "visits": 200,
        "complaints": 150,
        "surveys": 400,
        "staff": 50,
        "training": 90,
        "qa_reviews": 570,
        "incidents": 12,
    },
    "default": {
        "tickets": 50_000,
        "calls": 200_000,
        "chats": 100_000,
        "visits": 4_000,
        "complaints": 3_000,
        "surveys": 8_000,
        "staff": 230,
        "training": 480,
        "qa_reviews": 27_800,
        "incidents": 15,
    },
    "large": {
        "tickets": 1_000_000,
        "calls": 10_000_000,
        "chats": 2_000_000,
        "visits": 80_000,
        "complaints": 60_000,
        "surveys": 200_000,
        "staff": 5_200,
        "training": 11_200,
        "qa_reviews": 1_010_000,
        "incidents": 24,
    },
}
"""Approximate rows per quarter and dataset for each scale (2026Q3, for the CLI help).

``staff`` is the snapshot's row count, ``training`` the attendances,
``qa_reviews`` ≈ 11 % of the sampling base (answered calls, chats with a human
reply, tickets, visits). Other quarters drift by a few per cent.
"""

# ---------------------------------------------------------------------------
# vocabularies
# ---------------------------------------------------------------------------

_TEAMS = (
    "一组",
    "二组",
    "三组",
    "四组",
    "五组",
    "六组",
    "质检组",
    "培训组",
    "运维支撑组",
    "管理组",
)
_FRONT_TEAMS = 6  # the first six are frontline teams
_ROLES = ("frontline", "support", "manager")  # roster codes 0, 1, 2
_SEGMENTS = ("大客户", "中小企业", "小微企业", "个人")
_CATEGORIES = ("账单查询", "故障报修", "业务办理", "资费咨询", "产品咨询", "投诉建议", "其他")
_CATEGORY_P = (0.22, 0.20, 0.18, 0.15, 0.13, 0.07, 0.05)
_REPAIR = 1  # index of 故障报修
_CHAT_CHANNELS = ("web", "app", "wechat", "miniprogram")
_SYSTEMS = (
    "呼叫中心平台",
    "在线客服系统",
    "工单系统",
    "CRM系统",
    "短信平台",
    "智能客服机器人",
    "知识库",
)
_CTI = 0  # 呼叫中心平台
_TOPICS = (
    "服务规范与礼仪",
    "投诉处理技巧",
    "新业务知识",
    "资费政策解读",
    "系统操作培训",
    "信息安全与个人信息保护",
    "应急预案演练",
    "情绪管理与压力疏导",
    "沟通技巧提升",
    "质检标准解读",
    "产品知识更新",
)
_INDUCTION = "新员工岗前培训"
_DRILL = 6  # 应急预案演练: no exam

# ticket channels (schema.CHANNELS order): phone online app wechat email onsite social other
_TICKET_MIX_HOURS = (0.36, 0.17, 0.16, 0.15, 0.04, 0.06, 0.03, 0.03)
_TICKET_MIX_OFF = (0.22, 0.23, 0.24, 0.21, 0.04, 0.01, 0.03, 0.02)
_BOT_CHANNELS = (1, 2, 3, 6)  # online, app, wechat, social
_FIRST_RESPONSE_MIN = (0.5, 4.0, 4.0, 4.0, 45.0, 1.0, 6.0, 20.0)
_COMPLAINT_CHANNEL_P = (0.45, 0.14, 0.12, 0.12, 0.06, 0.04, 0.05, 0.02)

# ---------------------------------------------------------------------------
# hourly profiles (relative weights per hour of day) and phone staffing pressure
# ---------------------------------------------------------------------------

_H_SERVICE_WORK = np.array(
    [0.08, 0.05, 0.03, 0.03, 0.03, 0.06, 0.15, 0.35, 0.75, 1.15, 1.45, 1.30,
     0.85, 0.95, 1.25, 1.40, 1.25, 1.05, 0.75, 0.60, 0.55, 0.45, 0.30, 0.15]
)  # fmt: skip
_H_SERVICE_OFF = np.array(
    [0.08, 0.05, 0.03, 0.03, 0.03, 0.05, 0.10, 0.22, 0.45, 0.70, 0.85, 0.85,
     0.70, 0.70, 0.80, 0.85, 0.80, 0.70, 0.60, 0.55, 0.50, 0.40, 0.25, 0.12]
)  # fmt: skip
_H_DIGITAL_WORK = np.array(
    [0.15, 0.08, 0.05, 0.04, 0.04, 0.06, 0.15, 0.35, 0.70, 1.05, 1.30, 1.20,
     0.95, 1.00, 1.15, 1.30, 1.20, 1.05, 0.90, 0.90, 0.95, 0.85, 0.60, 0.30]
)  # fmt: skip
_H_DIGITAL_OFF = np.array(
    [0.15, 0.08, 0.05, 0.04, 0.04, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.90,
     0.80, 0.80, 0.90, 0.95, 0.90, 0.85, 0.80, 0.85, 0.90, 0.80, 0.55, 0.28]
)  # fmt: skip
_H_FIELD = np.array(
    [0.20, 0.15, 0.12, 0.10, 0.10, 0.12, 0.25, 0.50, 0.95, 1.20, 1.30, 1.25,
     1.00, 1.05, 1.20, 1.25, 1.15, 1.00, 0.80, 0.65, 0.55, 0.45, 0.35, 0.25]
)  # fmt: skip
# phone queue model (see _calls): median wait of queued callers, share answered at once,
# mean patience, and how much more load than staff the promotion week carries
_QUEUE_MEDIAN = 30.0
_IMMEDIATE = 0.52
_PATIENCE = 1000.0
_PROMO_UNDERSTAFFING = 1.35
_PRESSURE = np.array(
    [0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.10, 0.00, 0.05, 0.20, 0.12,
     0.15, 0.10, 0.05, 0.18, 0.08, 0.00, 0.05, 0.10, 0.10, 0.10, 0.10, 0.15]
)  # fmt: skip

# ---------------------------------------------------------------------------
# survey comments
# ---------------------------------------------------------------------------

_PRAISE = (
    "客服人员态度很好，耐心解答了我的问题，非常满意。",
    "问题处理得很及时，一次就解决了，点赞！",
    "工程师上门很准时，服务专业，值得表扬。",
    "在线客服回复很快，讲解清楚。",
    "整体体验不错，希望继续保持。",
    "接线的客服服务热情，业务也很熟练。",
    "办理流程比以前简单多了，好评。",
    "账单问题解释得很清楚，感谢耐心解答。",
    "师傅维修很仔细，还讲解了使用注意事项。",
    "客服第一时间回电，问题当天就解决了。",
    "在APP上就能查到账单和进度，很方便。",
    "服务很贴心😊下次还会选择你们。",
    "处理速度快 & 态度好，给五星！",
)
_WAITING = (
    "电话排队时间太长，等了快十分钟才接通。",
    "高峰期根本打不进去，希望增加人手。",
    "在线客服半天没人回复，体验很差。",
    "晚上咨询一直没人回应，只能第二天再联系。",
    "报修后等了很久师傅才到，影响正常使用。",
    "工单提交三天了还没人联系我。",
    "活动期间客服电话一直占线，等待太久。",
    '说了三次"马上处理"，结果还是没有下文。',
)
_BILLING = (
    "账单金额和实际使用对不上，解释不清楚。",
    "套餐资费变动没有提前通知，多扣了费用。",
    "上门维修后又额外收了材料费，事先没说明。",
    "退款拖了两周还没到账，请尽快处理。",
    "费用明细看不懂，希望账单能写得清楚一些。",
    "发票开具太慢，催了好几次。",
)
_ATTITUDE = (
    "客服态度生硬，问了几遍都不耐烦。",
    "转了好几个部门，每次都要重新说一遍问题。",
    "承诺的回电一直没有打过来。",
    "客服只会照念话术，解决不了实际问题。",
    "问题反映多次仍未解决，对处理结果不满意。",
    "工作人员说话不礼貌<非常失望>。",
)
_SUGGESTION = (
    "建议增加夜间人工客服。",
    "希望APP能直接查询工单进度。",
    "建议优化语音导航，层级太多了。",
    "希望能提供短信提醒上门时间。",
    "建议客服电话增加方言服务。",
    "可以在微信公众号上增加自助办理功能。",
    "建议把常见问题整理成指南放在官网上。",
    "希望节假日也能预约上门服务。",
)
# the awkward templates (emoji, &, quotes, <>) are mostly written in their plain form
_PLAIN = {
    "服务很贴心😊下次还会选择你们。": "服务很贴心，下次还会选择你们。",
    "处理速度快 & 态度好，给五星！": "处理速度快，态度好，给五星！",
    '说了三次"马上处理"，结果还是没有下文。': "说了三次马上处理，结果还是没有下文。",
    "工作人员说话不礼貌<非常失望>。": "工作人员说话不礼貌，非常失望。",
}
_CLOSING_GOOD = ("谢谢！", "辛苦了。", "继续加油。")
_CLOSING_BAD = ("希望尽快改进。", "请相关部门重视。", "希望给个说法。")
_COMMENT_GROUPS = (_PRAISE, _WAITING, _BILLING, _ATTITUDE, _SUGGESTION)
# P(group | overall score 1..5): praise, waiting, billing, attitude, suggestion
_GROUP_P = np.array(
    [
        [0.00, 0.35, 0.30, 0.35, 0.00],
        [0.00, 0.35, 0.30, 0.30, 0.05],
        [0.05, 0.30, 0.20, 0.15, 0.30],
        [0.50, 0.15, 0.00, 0.00, 0.35],
        [0.75, 0.00, 0.00, 0.00, 0.25],
    ]
)
_PHONE_PRE = ("联系电话", "我的手机号是", "有问题请回电", "电话：")
_PHONE_POST = ("。", "，谢谢。", "。", "")
_MAIL_PRE = ("邮箱", "请把处理结果发到", "我的邮箱是")
_MAIL_POST = ("。", "，谢谢。", "")
_ID_PRE = ("身份证号", "本人身份证号码")
_ID_POST = ("，请核实。", "。")
_MOBILE_PREFIXES = np.array(
    [130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156, 157,
     158, 159, 166, 176, 177, 178, 180, 181, 185, 186, 187, 188, 189, 198, 199]
)  # fmt: skip
_MAIL_NAMES = (
    "zhangwei", "wangfang", "liyang", "liuna", "chenjie", "yangmin", "zhaolei", "huangli",
    "zhouqiang", "wuxia", "xuhao", "sunyan", "maqian", "zhuhong", "hutao", "guojing",
)  # fmt: skip
_MAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "gmail.com", "outlook.com")
_ID_REGIONS = np.array([110101, 110105, 310104, 310115, 440305, 440106, 330106, 320102, 510107])
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_ID_CHECK = tuple("10X98765432")

# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

_DAY = 86_400
_HOUR = 3_600
_EPOCH = datetime(1970, 1, 1)
_REFERENCE = 2026 * 4 + 2  # 2026Q3, the quarter the shortfalls are sized for
_ROSTER_FROM = np.datetime64("1960-01", "M")
_ROSTER_TO = np.datetime64("2100-01", "M")
_DIGITS4 = np.array([list(f"{i:04d}".encode()) for i in range(10_000)], dtype=np.uint8)


def _epoch(dt: datetime) -> int:
    return int((dt - _EPOCH).total_seconds())


def _rng(seed: int, period: Period, name: str) -> np.random.Generator:
    """The generator of one (seed, period, dataset): stable whatever else is generated."""
    return np.random.default_rng([seed, period.year, _kind_code(period), zlib.crc32(name.encode())])


def _kind_code(period: Period) -> int:
    """A quarter's number (1–4, as always); 0 a year, 11–12 a half, 101–112 a month."""
    return {"quarter": 0, "year": 0, "half": 10, "month": 100}[period.kind] + (
        0 if period.kind == "year" else period.number
    )


def _span(period: Period) -> float:
    """The period's length in quarters (sizes are per quarter): 1/3 for a month, 4 a year."""
    return period.months_long / 3


def _token(period: Period) -> str:
    """The period's part of record ids: ``20263`` (2026Q3, as always), ``2026M07``, ``2026H1``,
    ``2026A``: ids stay unique across periods of every kind."""
    if period.kind == "quarter":
        return f"{period.year}{period.number}"
    return {"year": f"{period.year}A", "half": f"{period.year}H{period.number}",
            "month": f"{period.year}M{period.number:02d}"}[period.kind]  # fmt: skip


def _lognormal(
    rng: np.random.Generator, median: np.ndarray | float, sigma: np.ndarray | float, n: int
) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def _choice(rng: np.random.Generator, n: int, p: Sequence[float] | np.ndarray) -> np.ndarray:
    """Codes 0..len(p)-1 drawn with probabilities p (vectorised)."""
    cum = np.cumsum(np.asarray(p, dtype=float))
    return np.searchsorted(cum / cum[-1], rng.random(n), side="right").astype(np.int64)


def _chance(rng: np.random.Generator, n: int, p: float | np.ndarray) -> np.ndarray:
    return rng.random(n) < p


def _fixed_ids(
    prefix: str,
    nums: np.ndarray,
    width: int,
    *,
    null: np.ndarray | None = None,
    infix: np.ndarray | None = None,
) -> pa.Array:
    """Strings ``prefix + infix[i] + nums[i] zero-padded to width``, built as bytes."""
    n = nums.size
    if n and int(nums.max()) >= 10**width:
        raise ValueError(f"{prefix}: numbers need more than {width} digits")
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    mid = 0 if infix is None else infix.shape[1]
    lead = head.size + mid
    w = lead + width
    buf = np.empty((n, w), dtype=np.uint8)
    buf[:, : head.size] = head
    if infix is not None:
        buf[:, head.size : lead] = infix
    x = nums.astype(np.int64, copy=True)
    stop = w
    while stop > lead:
        k = min(4, stop - lead)
        x, r = np.divmod(x, 10_000)
        buf[:, stop - k : stop] = _DIGITS4[r][:, 4 - k :]
        stop -= k
    offsets = np.arange(0, (n + 1) * w, w, dtype=np.int64)
    validity = None
    if null is not None and null.any():
        validity = pa.py_buffer(np.packbits(~null, bitorder="little"))
    arr = pa.Array.from_buffers(
        pa.large_string(), n, [validity, pa.py_buffer(offsets), pa.py_buffer(buf)]
    )
    return arr.cast(pa.string()) if n * w < 2**31 - 1 else arr


def _labels(labels: Sequence[str], codes: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """Strings from integer codes; null where ``null`` (or the code is negative)."""
    mask = codes < 0 if null is None else (null | (codes < 0))
    idx = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask)
    return pa.array(labels, pa.string()).take(idx)


def _ts(sec: np.ndarray) -> pa.Array:
    """Timestamps (seconds since the epoch, float with NaN for missing) as timestamp[s]."""
    null = np.isnan(sec) if sec.dtype.kind == "f" else None
    vals = np.where(null, 0, sec) if null is not None else sec
    return pa.array(vals.astype(np.int64).astype("datetime64[s]"), mask=null)


def _dates(days: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(days.astype("datetime64[D]"), type=pa.date32(), mask=null)


def _bools(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    return pa.array(values.astype(bool), mask=null)


def _ints(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    if values.dtype.kind == "f":
        bad = np.isnan(values)
        null = bad if null is None else (null | bad)
        values = np.where(bad, 0, values)
    return pa.array(np.round(values).astype(np.int64), mask=null)


def _recode(ours: Sequence[str], theirs: Sequence[str]) -> np.ndarray:
    """Map codes of our label order to positions in the schema's enum order."""
    return np.array([list(theirs).index(label) for label in ours])


def _cut(sec: np.ndarray, end: int) -> np.ndarray:
    """Instants at or after the period end are not known yet: NaN."""
    out = sec.astype(float, copy=True)
    out[out >= end] = np.nan
    return out


def _nan_where(sec: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = sec.astype(float, copy=True)
    out[mask] = np.nan
    return out


def _customer_ids(idx: np.ndarray, null: np.ndarray | None = None, tag: str = "") -> pa.Array:
    """Pool index → ``C`` + 8 digits, a bijection that scatters neighbouring indices."""
    return _fixed_ids(f"C{tag}", (idx * 48_271 + 7_654_321) % 100_000_000, 8, null=null)


def _segments(idx: np.ndarray) -> np.ndarray:
    """Customer segment code, a fixed function of the customer (3 / 15 / 22 / 60 %)."""
    h = (idx * 2_654_435_761 + 12_345) % 1_000
    return np.searchsorted(np.array([30, 180, 400]), h, side="right")


# ---------------------------------------------------------------------------
# calendar, drift, context
# ---------------------------------------------------------------------------


def _workdays(first: date, n: int) -> np.ndarray:
    """Workday flag per day (one lookup per day, not per row).

    A year the calendar package does not know falls back to Monday–Friday, so
    sample data can be made for any year (the report itself then needs the
    year's holidays in its parameters).
    """
    cal = WorkCalendar()
    out = np.empty(n, dtype=bool)
    for i in range(n):
        day = first + timedelta(days=i)
        try:
            out[i] = cal.is_workday(day)
        except ParamsError:
            out[i] = day.weekday() < 5
    return out


@dataclass(frozen=True)
class _Drift:
    volume: float
    queue: float  # multiplier on the median wait of callers who have to queue
    offhours_noreply: float
    offhours_median_min: float
    suburb_emergency_late: float
    core_emergency_late: float
    regular_late: float
    complaint_median_workdays: float
    qa_critical: float
    qa_share: float
    satisfaction: float  # shift of the overall-score distribution (+ = happier)
    repeat_share: float
    l1_median_min: float
    bot_share: float
    handling: float = 1.0  # multiplier on every ticket level's handling time (a branch's profile)


_SEASON = {1: 0.93, 2: 0.97, 3: 1.0, 4: 0.98}


def _drift(seed: int, period: Period) -> _Drift:
    # a longer period sits at the mean of its quarters' positions, a month at its quarter's
    if period.kind == "month":
        quarters: tuple[Period, ...] = (Period.containing(period.first_day, "quarter"),)
    else:
        quarters = period.quarters()
    t: float = quarters[0].ordinal - _REFERENCE
    season = _SEASON[quarters[0].quarter]
    if len(quarters) > 1:
        t = sum(q.ordinal for q in quarters) / len(quarters) - _REFERENCE
        season = sum(_SEASON[q.quarter] for q in quarters) / len(quarters)
    tc = float(np.clip(t, -6, 6))
    r = _rng(seed, period, "drift")

    def v(base: float, slope: float, sd: float, span: float = 6) -> float:
        return base + slope * float(np.clip(tc, -span, span)) + sd * float(r.standard_normal())

    return _Drift(
        volume=1.015 ** float(np.clip(t, -40, 40)) * season / _SEASON[3] * _span(period),
        queue=max(0.6, v(1.035, 0.012, 0.006, span=4)),  # worsening, always short
        offhours_noreply=max(0.0, v(0.036, 0.002, 0.001)),  # worsening
        offhours_median_min=v(7.0, 0.15, 0.2),
        suburb_emergency_late=v(0.11, 0.0, 0.006),
        core_emergency_late=v(0.048, 0.0015, 0.003),
        regular_late=v(0.045, -0.002, 0.004),  # improving
        complaint_median_workdays=v(4.65, -0.1, 0.05),  # improving
        qa_critical=max(0.002, v(0.0165, 0.0004, 0.0005)),
        qa_share=v(0.11, 0.0, 0.0015),
        satisfaction=v(0.0, 0.004, 0.01),  # slowly improving
        repeat_share=v(0.055, -0.002, 0.003),  # improving
        l1_median_min=v(40.0, -0.8, 1.0),
        bot_share=v(0.30, 0.012, 0.01),  # the bot solves more each quarter
    )


@dataclass(frozen=True)
class _Profile:
    """A branch's strengths and weaknesses, applied to its drift (:func:`_profiled`).

    Multipliers (1: as the reference organisation) and the satisfaction shift (0: as it).
    """

    queue: float = 1.0  # waits of queued callers → phone service level, abandonment
    offhours: float = 1.0  # off-hours chats: share left without reply, response time
    handling: float = 1.0  # ticket handling times of every level → late tickets
    late: float = 1.0  # shares of visits arriving late
    complaint_days: float = 1.0  # complaint handling in working days
    satisfaction: float = 0.0  # added to the overall-score shift (+ = happier)
    qa_critical: float = 1.0  # QA critical error rate


def _profiled(d: _Drift, profile: _Profile | None) -> _Drift:
    """The drift of a branch with ``profile`` (None: the drift itself, unchanged)."""
    if profile is None:
        return d
    return replace(
        d,
        queue=d.queue * profile.queue,
        offhours_noreply=d.offhours_noreply * profile.offhours,
        offhours_median_min=d.offhours_median_min * profile.offhours,
        handling=d.handling * profile.handling,
        suburb_emergency_late=d.suburb_emergency_late * profile.late,
        core_emergency_late=d.core_emergency_late * profile.late,
        regular_late=d.regular_late * profile.late,
        complaint_median_workdays=d.complaint_median_workdays * profile.complaint_days,
        # the score distribution needs 0.045 - s ≥ 0 (see _surveys)
        satisfaction=float(np.clip(d.satisfaction + profile.satisfaction, -0.1, 0.04)),
        qa_critical=d.qa_critical * profile.qa_critical,
    )


@dataclass(frozen=True)
class _Roster:
    """Everyone the organisation ever hired (for one seed and scale)."""

    number: np.ndarray  # agent number → id ``KF`` + 6 digits
    hired: np.ndarray  # datetime64[D]
    left: np.ndarray  # datetime64[D] (possibly far in the future)
    role: np.ndarray
    team: np.ndarray
    languages: np.ndarray
    quality: np.ndarray  # QA score offset of the person
    workload: np.ndarray  # relative share of the records they handle


def _hire_days(months: np.ndarray) -> np.ndarray:
    """Batch hiring day of each month: first weekday after the month's holidays."""
    month_no = months.astype(int) % 12  # 0 = January
    offset = np.array([3, 20, 0, 0, 5, 0, 0, 0, 0, 8, 0, 0])[month_no]
    days = months.astype("datetime64[D]") + offset
    return np.busday_offset(days, 0, roll="forward")


def _roster(seed: int, scale: str, size: _Size | None = None) -> _Roster:
    size = size or _SIZES[scale]
    rng = np.random.default_rng([seed, zlib.crc32(b"roster"), zlib.crc32(scale.encode())])
    months = np.arange(_ROSTER_FROM, _ROSTER_TO)
    # a fifth leave within the first year; the others stay ~11 years on average, at most
    # until retirement
    mean_tenure_months = 0.2 * 8 + 0.8 * 130 * (1 - np.exp(-300 / 130))
    per_month = rng.poisson(size.staff / mean_tenure_months, months.size)
    hired = _hire_days(np.repeat(months, per_month))
    n = hired.size
    short = _chance(rng, n, 0.2)
    retire = rng.uniform(20 * 365.25, 30 * 365.25, n)
    tenure = np.where(
        short, rng.exponential(8 * 30.44, n), np.minimum(rng.exponential(130 * 30.44, n), retire)
    )
    left = hired + np.maximum(20, np.ceil(tenure)).astype("timedelta64[D]")
    role = _choice(rng, n, (0.86, 0.09, 0.05))
    front_team = rng.integers(0, _FRONT_TEAMS, n)
    team = np.where(
        role == 0,
        front_team,
        np.where(role == 1, rng.integers(6, 9, n), np.where(_chance(rng, n, 0.5), 9, front_team)),
    )
    return _Roster(
        number=np.arange(1, n + 1),
        hired=hired,
        left=left,
        role=role,
        team=team,
        languages=1 + _choice(rng, n, (0.78, 0.18, 0.04)),
        quality=rng.normal(0.0, 1.8, n),
        workload=rng.lognormal(0.0, 0.3, n),
    )


@dataclass
class _Staff:
    """The period's snapshot of the roster and the frontline pool for work records."""

    ids: pa.Array  # agent_id strings of the snapshot rows
    ridx: np.ndarray  # roster index of each snapshot row
    hire_s: np.ndarray  # seconds
    leave_s: np.ndarray  # seconds (roster truth, possibly after the period)
    pool: np.ndarray  # snapshot rows of frontline employed at some time in the period
    pool_p: np.ndarray
    stable: np.ndarray  # snapshot rows of frontline employed the whole period


@dataclass
class _Ctx:
    period: Period
    seed: int
    size: _Size
    roster: _Roster
    drift: _Drift
    start: int
    end: int
    ndays: int
    workday: np.ndarray
    day_noise: np.ndarray
    promo: np.ndarray
    day_strings: np.ndarray  # (ndays, 8) uint8: YYYYMMDD
    staff: _Staff | None = None
    tag: str = ""  # a branch's part of record ids (empty: a single organisation)

    def count(self, base: int) -> int:
        return max(1, round(base * self.drift.volume))

    def rng(self, name: str) -> np.random.Generator:
        return _rng(self.seed, self.period, name)

    def day_of(self, t: np.ndarray) -> np.ndarray:
        return ((t - self.start) // _DAY).astype(np.int64)

    def in_hours(self, t: np.ndarray) -> np.ndarray:
        rel = (t - self.start).astype(np.int64)
        sec = rel % _DAY
        return self.workday[rel // _DAY] & (sec >= 9 * _HOUR) & (sec < 18 * _HOUR)

    def arrivals(
        self,
        rng: np.random.Generator,
        n: int,
        work: np.ndarray,
        off: np.ndarray,
        off_factor: float,
        promo_factor: float,
    ) -> np.ndarray:
        """Sorted arrival instants (int seconds) of n records over the quarter."""
        day_w = (
            np.where(self.workday, 1.0, off_factor)
            * self.day_noise
            * np.where(self.promo, promo_factor, 1.0)
        )
        prof = np.where(self.workday[:, None], work[None, :], off[None, :])
        w = (day_w[:, None] * prof).ravel()
        counts = rng.multinomial(n, w / w.sum())
        cells = np.repeat(np.arange(w.size, dtype=np.int64), counts)
        t = self.start + cells * _HOUR + rng.integers(0, _HOUR, n)
        t.sort()
        return t

    def agents(self, rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
        """Snapshot row of a frontline agent employed at each instant."""
        st = self.staff
        assert st is not None
        pick = st.pool[np.searchsorted(st.pool_p, rng.random(t.size), side="right")]
        bad = (st.hire_s[pick] > t) | (st.leave_s[pick] <= t)
        if bad.any():
            pick[bad] = st.stable[rng.integers(0, st.stable.size, int(bad.sum()))]
        return pick


def _context(
    period: Period,
    scale: str,
    seed: int,
    roster: _Roster,
    size: _Size | None = None,
    profile: _Profile | None = None,
    tag: str = "",
) -> _Ctx:
    ndays = period.days
    workday = _workdays(period.first_day, ndays)
    rng = _rng(seed, period, "calendar")
    day_noise = rng.gamma(100.0, 1 / 100.0, ndays)
    # promotion week: the first or second Monday on or after the 8th of a quarter's second
    # month (one per quarter of the period; a month has its own on or after its 8th)
    promo = np.zeros(ndays, dtype=bool)
    if period.kind == "month":
        seconds = [date(period.year, period.number, 8)]
    else:
        seconds = [date(q.year, 3 * q.quarter - 1, 8) for q in period.quarters()]
    for m2 in seconds:
        monday = m2 + timedelta(days=(7 - m2.weekday()) % 7 + 7 * int(rng.integers(0, 2)))
        first = (monday - period.first_day).days
        promo[first : first + 7] = True
    days = np.datetime64(period.first_day, "D") + np.arange(ndays)
    day_strings = np.frombuffer(
        np.char.replace(np.datetime_as_string(days), "-", "").astype("S8").tobytes(), np.uint8
    ).reshape(ndays, 8)
    return _Ctx(
        period=period,
        seed=seed,
        size=size or _SIZES[scale],
        roster=roster,
        drift=_profiled(_drift(seed, period), profile),
        start=_epoch(period.start),
        end=_epoch(period.end),
        ndays=ndays,
        workday=workday,
        day_noise=day_noise,
        promo=promo,
        day_strings=day_strings,
        tag=tag,
    )


def _seq_ids(ctx: _Ctx, prefix: str, n: int, width: int = 8) -> pa.Array:
    return _fixed_ids(f"{prefix}{ctx.tag}{_token(ctx.period)}", np.arange(1, n + 1), width)


def _day_seconds(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype(np.int64) * _DAY


# ---------------------------------------------------------------------------
# datasets
# ---------------------------------------------------------------------------


def _staff(ctx: _Ctx) -> pa.Table:
    ro = ctx.roster
    rng = ctx.rng("staff")
    first = np.datetime64(ctx.period.first_day, "D")
    end_day = np.datetime64(ctx.period.last_day, "D") + 1
    rows = np.flatnonzero((ro.hired < end_day) & (ro.left >= first - 90))
    n = rows.size
    hired, left = ro.hired[rows], ro.left[rows]
    left_known = left < end_day
    hire_s, leave_s = _day_seconds(hired), _day_seconds(left)
    ids = _fixed_ids(f"KF{ctx.tag}", ro.number[rows], 6)
    front = ro.role[rows] == 0
    employed = front & (hire_s < ctx.end) & (leave_s > ctx.start)
    stable = front & (hire_s <= ctx.start) & (leave_s >= ctx.end)
    pool = np.flatnonzero(employed)
    w = ro.workload[rows][pool]
    ctx.staff = _Staff(
        ids=ids,
        ridx=rows,
        hire_s=hire_s,
        leave_s=leave_s,
        pool=pool,
        pool_p=np.cumsum(w) / w.sum(),
        stable=np.flatnonzero(stable),
    )
    if ctx.staff.stable.size == 0:  # cannot happen at the sizes used; keep agents() total
        ctx.staff.stable = pool
    return _table(
        "staff",
        agent_id=ids,
        role=_labels(ROLES, _recode(_ROLES, ROLES)[ro.role[rows]]),
        team=_labels(_TEAMS, ro.team[rows], _chance(rng, n, 0.01)),
        hired_on=_dates(hired),
        left_on=_dates(np.where(left_known, left, first), ~left_known),
        certified=_bools(np.ones(n, bool), _chance(rng, n, 0.02)),
        languages=_ints(ro.languages[rows], _chance(rng, n, 0.03)),
    )


@dataclass
class _Incidents:
    outage_start: np.ndarray
    outage_end: np.ndarray


def _incidents(ctx: _Ctx) -> tuple[pa.Table, _Incidents]:
    rng = ctx.rng("incidents")
    n = max(3, round(ctx.size.incidents * _span(ctx.period)) + int(rng.integers(-2, 3)))
    start = np.sort(ctx.start + rng.integers(0, ctx.end - ctx.start - 6 * _HOUR, n))
    major = np.zeros(n, bool)
    major[rng.integers(0, n)] = True
    system = np.where(major & _chance(rng, n, 0.5), _CTI, rng.integers(0, len(_SYSTEMS), n))
    minutes = np.where(
        major, rng.uniform(80, 120, n), np.clip(_lognormal(rng, 24.0, 0.65, n), 4, 240)
    )
    interrupted = major | _chance(rng, n, min(0.28, 4.0 / n))  # ~4 short interruptions
    resolved = _cut(start + np.round(minutes * 60), ctx.end)
    out = interrupted & (system == _CTI) & ~np.isnan(resolved)
    table = _table(
        "incidents",
        incident_id=_seq_ids(ctx, "GZ", n, 4),
        started_at=_ts(start),
        resolved_at=_ts(resolved),
        system=_labels(_SYSTEMS, system),
        severity=_labels(
            SEVERITIES, np.where(major, SEVERITIES.index("major"), SEVERITIES.index("minor"))
        ),
        service_interrupted=_bools(interrupted),
    )
    return table, _Incidents(start[out], resolved[out])


@dataclass
class _Tickets:
    created: np.ndarray
    channel: np.ndarray
    category: np.ndarray
    customer: np.ndarray  # pool index, -1 unknown
    agent: np.ndarray  # snapshot row, -1 none
    ids: pa.Array


def _tickets(ctx: _Ctx) -> tuple[pa.Table, _Tickets]:
    rng = ctx.rng("tickets")
    d = ctx.drift
    n = ctx.count(ctx.size.tickets)
    t = ctx.arrivals(rng, n, _H_SERVICE_WORK, _H_SERVICE_OFF, 0.5, 2.5)
    hours = ctx.in_hours(t)
    channel = np.where(hours, _choice(rng, n, _TICKET_MIX_HOURS), _choice(rng, n, _TICKET_MIX_OFF))
    level = _choice(rng, n, (0.70, 0.25, 0.05))
    category = _choice(rng, n, _CATEGORY_P)
    bot_channel = np.isin(channel, _BOT_CHANNELS)
    by_bot = bot_channel & (level == 0) & _chance(rng, n, d.bot_share)
    transferred = bot_channel & ~by_bot & _chance(rng, n, 0.55)
    human = ~by_bot

    first = t + np.round(_lognormal(rng, np.array(_FIRST_RESPONSE_MIN)[channel] * 60, 0.9, n)) + 5
    first = _nan_where(first, by_bot | _chance(rng, n, 0.02))
    first_cut = _cut(first, ctx.end)

    med = np.array([d.l1_median_min * 60, 8 * _HOUR, 30 * _HOUR])[level] * d.handling
    sig = np.array([0.62, 0.80, 0.60])[level]
    dur = _lognormal(rng, med, sig, n)
    dur = np.where(_chance(rng, n, 0.004), dur * 15, dur)  # stuck tickets
    dur = np.where(by_bot, _lognormal(rng, 150.0, 0.6, n), dur)
    l3 = level == 2
    with_plan = l3 & ~_chance(rng, n, 0.15)
    plan = np.where(with_plan, t + _lognormal(rng, 20 * _HOUR * d.handling, 0.6, n), np.nan)
    plan = np.where(with_plan, np.fmax(plan, first + 60), np.nan)
    resolved = np.where(with_plan, plan + _lognormal(rng, 3 * _DAY, 0.7, n), t + dur)
    resolved = np.fmax(resolved, first + 60)
    resolved = np.round(resolved)
    plan = _cut(np.round(plan), ctx.end)
    resolved = _cut(resolved, ctx.end)
    closed = _cut(np.round(resolved + _lognormal(rng, 3 * _HOUR, 1.2, n)), ctx.end)
    closed = _nan_where(closed, _chance(rng, n, 0.01))
    done = np.where(np.isnan(closed), resolved, closed)
    archived = _cut(np.round(done + _lognormal(rng, 2 * _HOUR, 1.1, n)), ctx.end)

    handoffs = np.where(
        by_bot,
        0,
        np.array([1, 2, 4])[level] + rng.poisson(np.array([0.8, 1.8, 2.5])[level]),
    )
    is_resolved = ~np.isnan(resolved)
    reopened = is_resolved & _chance(rng, n, 0.025)
    escalated = _chance(rng, n, np.array([0.01, 0.06, 0.35])[level])

    # customers: a pool draw, then repeat contacts copy a customer of the previous days
    cust = rng.integers(0, ctx.size.customers, n)
    per_day = max(2, int(n / ctx.ndays * 3))
    back = np.arange(n) - rng.integers(1, per_day, n)
    repeat = _chance(rng, n, d.repeat_share) & (back >= 0)
    back = np.clip(back, 0, None)
    repeat &= t - t[back] <= 7 * _DAY
    cust = np.where(repeat, cust[back], cust)
    cust = np.where(_chance(rng, n, 0.03), -1, cust)

    agent = np.full(n, -1)
    agent[human] = ctx.agents(rng, t[human])
    agent = np.where(_chance(rng, n, 0.01), -1, agent)
    assert ctx.staff is not None
    team = np.where(agent >= 0, ctx.roster.team[ctx.staff.ridx[np.clip(agent, 0, None)]], -1)

    ids = _fixed_ids(f"GD{ctx.tag}", np.arange(1, n + 1), 7, infix=ctx.day_strings[ctx.day_of(t)])
    table = _table(
        "tickets",
        ticket_id=ids,
        created_at=_ts(t),
        channel=_labels(CHANNELS, channel),
        level=_labels(LEVELS, _recode(("L1", "L2", "L3"), LEVELS)[level]),
        category=_labels(_CATEGORIES, category, _chance(rng, n, 0.015)),
        customer_id=_customer_ids(np.clip(cust, 0, None), cust < 0, ctx.tag),
        segment=_labels(_SEGMENTS, _segments(cust), (cust < 0) | _chance(rng, n, 0.01)),
        first_response_at=_ts(first_cut),
        resolved_at=_ts(resolved),
        plan_at=_ts(plan),
        closed_at=_ts(closed),
        handoffs=_ints(handoffs, _chance(rng, n, 0.01)),
        reopened=_bools(reopened, _chance(rng, n, 0.01)),
        escalated=_bools(escalated, _chance(rng, n, 0.008)),
        resolved_by_bot=_bools(by_bot, _chance(rng, n, 0.01)),
        transferred_to_human=_bools(transferred, _chance(rng, n, 0.01)),
        agent_id=ctx.staff.ids.take(pa.array(np.clip(agent, 0, None), mask=agent < 0)),
        team=_labels(_TEAMS, team, _chance(rng, n, 0.005)),
        archived_at=_ts(archived),
    )
    return table, _Tickets(t, channel, category, cust, agent, ids)


@dataclass
class _Handled:
    """Records a QA reviewer can sample: when they were handled, and by whom."""

    at: np.ndarray
    agent: np.ndarray


def _calls(ctx: _Ctx, incidents: _Incidents) -> tuple[pa.Table, _Handled]:
    rng = ctx.rng("calls")
    d = ctx.drift
    n = ctx.count(ctx.size.calls)
    t = ctx.arrivals(rng, n, _H_SERVICE_WORK, _H_SERVICE_OFF, 0.55, 2.5)
    rel = t - ctx.start
    day, hour = rel // _DAY, (rel % _DAY) // _HOUR
    promo = ctx.promo[day]
    # staffing pressure: the promotion week is only partly staffed, peaks, lunch, nights
    z = (
        np.log(np.where(promo, _PROMO_UNDERSTAFFING, 1.0) * ctx.day_noise[day])
        + _PRESSURE[hour]
        + np.where(ctx.workday[day], 0.0, 0.06)
    )
    busy = _chance(rng, n, np.where(promo, 0.010, 0.004))
    if incidents.outage_start.size:
        k = np.searchsorted(incidents.outage_start, t, side="right") - 1
        inside = (k >= 0) & (t < incidents.outage_end[np.clip(k, 0, None)])
        busy |= inside & _chance(rng, n, 0.6)
    ivr = ~busy & _chance(rng, n, 0.27)
    human = ~busy & ~ivr
    immediate = _chance(rng, n, np.clip(_IMMEDIATE - 0.6 * z, 0.05, 0.9))
    wait = np.where(
        immediate,
        rng.integers(0, 11, n),
        np.round(_lognormal(rng, _QUEUE_MEDIAN * d.queue * np.exp(1.1 * z), 0.6, n)),
    )
    patience = rng.exponential(_PATIENCE, n)
    short = _chance(rng, n, 0.018)
    abandoned = human & (short | (patience < wait))
    answered = human & ~abandoned
    queue = np.where(
        abandoned, np.where(short, rng.integers(0, 5, n), np.floor(patience)), wait
    ).astype(float)
    queue[~human] = np.nan
    queue[_chance(rng, n, 0.005)] = np.nan
    ring = np.round(_lognormal(rng, 2.3, 0.42, n))
    ring[busy | _chance(rng, n, 0.008)] = np.nan
    talk = np.where(answered, np.round(np.maximum(15, _lognormal(rng, 210.0, 0.65, n))), np.nan)
    talk[_chance(rng, n, 0.004)] = np.nan
    agent = np.full(n, -1)
    agent[answered] = ctx.agents(rng, t[answered])
    handled = _Handled((t + np.nan_to_num(queue) + np.nan_to_num(talk))[answered], agent[answered])
    agent = np.where(_chance(rng, n, 0.003), -1, agent)
    cust = rng.integers(0, ctx.size.customers, n)
    no_cust = _chance(rng, n, 0.12)
    outcome = np.where(answered, 0, np.where(abandoned, 1, np.where(ivr, 2, 3)))
    assert ctx.staff is not None
    table = _table(
        "calls",
        call_id=_seq_ids(ctx, "TH", n),
        arrived_at=_ts(t),
        outcome=_labels(
            CALL_OUTCOMES, _recode(("answered", "abandoned", "ivr", "busy"), CALL_OUTCOMES)[outcome]
        ),
        ring_seconds=_ints(ring),
        queue_seconds=_ints(queue),
        talk_seconds=_ints(talk),
        agent_id=ctx.staff.ids.take(pa.array(np.clip(agent, 0, None), mask=agent < 0)),
        customer_id=_customer_ids(cust, no_cust, ctx.tag),
    )
    return table, handled


def _chats(ctx: _Ctx) -> tuple[pa.Table, _Handled]:
    rng = ctx.rng("chats")
    d = ctx.drift
    n = ctx.count(ctx.size.chats)
    t = ctx.arrivals(rng, n, _H_DIGITAL_WORK, _H_DIGITAL_OFF, 0.7, 2.5)
    hours = ctx.in_hours(t)
    promo = ctx.promo[ctx.day_of(t)]
    bot_only = _chance(rng, n, 0.40)
    human = ~bot_only
    noreply = human & _chance(
        rng, n, np.where(hours, np.where(promo, 0.007, 0.003), d.offhours_noreply)
    )
    median = np.where(hours, 0.8 * 60, d.offhours_median_min * 60) * np.where(promo, 1.2, 1.0)
    resp = np.maximum(5, np.round(_lognormal(rng, median, np.where(hours, 0.6, 0.85), n)))
    reply = _cut(np.where(human & ~noreply, t + resp, np.nan), ctx.end)
    replied = ~np.isnan(reply)
    ended = np.where(
        bot_only,
        t + _lognormal(rng, 150.0, 0.6, n),
        np.where(replied, reply + _lognormal(rng, 420.0, 0.7, n), t + _lognormal(rng, 600, 0.5, n)),
    )
    ended = _nan_where(_cut(np.round(ended), ctx.end), _chance(rng, n, 0.005))
    notice = np.where(replied, ~hours, False)
    notice_null = bot_only | _chance(rng, n, 0.01)
    agent = np.full(n, -1)
    agent[replied] = ctx.agents(rng, t[replied])
    handled = _Handled(reply[replied], agent[replied])
    agent = np.where(_chance(rng, n, 0.003), -1, agent)
    cust = rng.integers(0, ctx.size.customers, n)
    assert ctx.staff is not None
    table = _table(
        "chats",
        session_id=_seq_ids(ctx, "ZX", n),
        started_at=_ts(t),
        channel=_labels(
            _CHAT_CHANNELS, _choice(rng, n, (0.35, 0.33, 0.26, 0.06)), _chance(rng, n, 0.01)
        ),
        first_reply_at=_ts(reply),
        bot_only=_bools(bot_only, _chance(rng, n, 0.005)),
        off_hours_notice=_bools(notice, notice_null),
        ended_at=_ts(ended),
        agent_id=ctx.staff.ids.take(pa.array(np.clip(agent, 0, None), mask=agent < 0)),
        customer_id=_customer_ids(cust, _chance(rng, n, 0.3), ctx.tag),
    )
    return table, handled


def _link(
    rng: np.random.Generator,
    tickets: _Tickets,
    at: np.ndarray,
    p: float,
    candidates: np.ndarray | None = None,
    spread_days: float = 3.0,
) -> np.ndarray:
    """A ticket created shortly before each instant (index, or -1), each ticket used once."""
    cand = np.arange(tickets.created.size) if candidates is None else candidates
    ct = tickets.created[cand]
    if cand.size == 0:
        return np.full(at.size, -1)
    span = max(2, int(cand.size / max(1.0, (ct[-1] - ct[0]) / _DAY) * spread_days))
    pos = np.searchsorted(ct, at - 600, side="right") - 1 - rng.integers(0, span, at.size)
    ok = (pos >= 0) & _chance(rng, at.size, p)
    out = np.where(ok, cand[np.clip(pos, 0, None)], -1)
    _, first = np.unique(out, return_index=True)
    keep = np.zeros(out.size, bool)
    keep[first] = True
    return np.where(keep, out, -1)


def _visits(ctx: _Ctx, tickets: _Tickets) -> tuple[pa.Table, _Handled]:
    rng = ctx.rng("visits")
    d = ctx.drift
    n = ctx.count(ctx.size.visits)
    t = ctx.arrivals(rng, n, _H_FIELD, _H_FIELD * 0.8, 0.6, 1.3)
    emergency = _chance(rng, n, 0.30)
    suburb = _chance(rng, n, 0.35)
    confirm = np.round(t + np.maximum(30, _lognormal(rng, 6 * 60.0, 0.8, n)))
    confirm = _nan_where(_cut(confirm, ctx.end), _chance(rng, n, 0.005))
    limit = np.where(emergency, np.where(suburb, 60, 30), np.where(suburb, 240, 120)) * 60.0

    # arrival = limit × lognormal, placed so that P(arrival > limit) is the late share
    def z(late: float) -> float:
        return NormalDist().inv_cdf(1 - min(max(late, 1e-4), 0.5))

    zz = np.where(
        emergency,
        np.where(suburb, z(d.suburb_emergency_late), z(d.core_emergency_late)),
        z(d.regular_late),
    )
    sigma = 0.32
    arrive = np.round(t + limit * np.exp(sigma * (rng.standard_normal(n) - zz)))
    arrive = _cut(arrive, ctx.end)
    late = arrive - t > limit
    eta = np.where(emergency & suburb, True, _chance(rng, n, 0.85))
    compensated = np.where(late & ~emergency, True, False)
    nodes_total = rng.integers(4, 9, n)
    nodes_done = nodes_total - _chance(rng, n, 0.01)
    completed = _cut(np.round(arrive + _lognormal(rng, 90 * 60.0, 0.6, n)), ctx.end)
    is_done = ~np.isnan(completed)
    arrive = _nan_where(arrive, _chance(rng, n, 0.02))  # arrival not recorded (a data gap)
    nodes_done = np.where(is_done, nodes_done, nodes_total - rng.integers(1, 3, n))
    archived = _cut(np.round(completed + _lognormal(rng, 3 * _HOUR, 1.0, n)), ctx.end)
    repair = np.flatnonzero(tickets.category == _REPAIR)
    link = _link(rng, tickets, t, 0.85, repair, spread_days=2.0)
    agent = ctx.agents(rng, t)
    table = _table(
        "visits",
        visit_id=_seq_ids(ctx, "XC", n, 7),
        reported_at=_ts(t),
        kind=_labels(
            VISIT_KINDS, _recode(("emergency", "regular"), VISIT_KINDS)[np.where(emergency, 0, 1)]
        ),
        area=_labels(AREAS, _recode(("core", "suburb"), AREAS)[np.where(suburb, 1, 0)]),
        confirmed_at=_ts(confirm),
        arrived_at=_ts(arrive),
        eta_notified=_bools(eta, _chance(rng, n, 0.03)),
        compensated=_bools(compensated, _chance(rng, n, 0.04)),
        nodes_total=_ints(nodes_total, _chance(rng, n, 0.01)),
        nodes_done=_ints(nodes_done, _chance(rng, n, 0.01)),
        completed_at=_ts(completed),
        accepted=_bools(is_done, ~is_done | _chance(rng, n, 0.02)),
        dissatisfied=_bools(_chance(rng, n, 0.015), ~is_done | _chance(rng, n, 0.02)),
        extra_fee_complaint=_bools(_chance(rng, n, 0.004), ~is_done | _chance(rng, n, 0.02)),
        archived_at=_ts(archived),
        ticket_id=tickets.ids.take(pa.array(np.clip(link, 0, None), mask=link < 0)),
    )
    return table, _Handled(np.where(is_done, completed, t + 3600.0), agent)


def _add_working_days(ctx: _Ctx, t: np.ndarray, workdays: np.ndarray) -> np.ndarray:
    """The instant ``workdays`` working days (09:00–18:00 on workdays) after t; NaN past the end."""
    per_day = np.where(ctx.workday, 9 * _HOUR, 0).astype(np.int64)
    before = np.concatenate([[0], np.cumsum(per_day)[:-1]])
    after = before + per_day
    rel = t - ctx.start
    day, sec = rel // _DAY, rel % _DAY
    within = np.where(ctx.workday[day], np.clip(sec, 9 * _HOUR, 18 * _HOUR) - 9 * _HOUR, 0)
    target = before[day] + within + np.round(workdays * 9 * _HOUR)
    k = np.searchsorted(after, target, side="left")
    inside = k < ctx.ndays
    kk = np.clip(k, 0, ctx.ndays - 1)
    out = ctx.start + kk * _DAY + 9 * _HOUR + (target - before[kk])
    return np.where(inside, out, np.nan)


def _complaints(ctx: _Ctx, tickets: _Tickets) -> pa.Table:
    rng = ctx.rng("complaints")
    d = ctx.drift
    n = ctx.count(ctx.size.complaints)
    t = ctx.arrivals(rng, n, _H_SERVICE_WORK, _H_SERVICE_OFF, 0.45, 1.8)
    ctype = _choice(rng, n, (0.25, 0.30, 0.22, 0.15, 0.08))
    link = _link(rng, tickets, t, 0.6, spread_days=5.0)
    cust = np.where(
        link >= 0, tickets.customer[np.clip(link, 0, None)], rng.integers(0, ctx.size.customers, n)
    )
    # repeat complaints: same customer and type as a complaint of the last weeks
    back = np.arange(n) - rng.integers(1, max(2, int(n / ctx.ndays * 20)), n)
    repeat = _chance(rng, n, 0.02) & (back >= 0)
    back = np.clip(back, 0, None)
    repeat &= t - t[back] <= 30 * _DAY
    cust = np.where(repeat, cust[back], cust)
    ctype = np.where(repeat, ctype[back], ctype)
    link = np.where(repeat, -1, link)
    cust = np.where(_chance(rng, n, 0.03), -1, cust)
    channel = np.where(
        link >= 0, tickets.channel[np.clip(link, 0, None)], _choice(rng, n, _COMPLAINT_CHANNEL_P)
    )
    handling = np.maximum(0.1, _lognormal(rng, d.complaint_median_workdays, 0.95, n))
    resolved = _cut(_add_working_days(ctx, t, handling), ctx.end)
    is_resolved = ~np.isnan(resolved)
    return _table(
        "complaints",
        complaint_id=_seq_ids(ctx, "TS", n, 6),
        received_at=_ts(t),
        type=_labels(COMPLAINT_TYPES, ctype),
        customer_id=_customer_ids(np.clip(cust, 0, None), cust < 0, ctx.tag),
        segment=_labels(_SEGMENTS, _segments(cust), cust < 0),
        channel=_labels(CHANNELS, channel, _chance(rng, n, 0.01)),
        resolved_at=_ts(resolved),
        escalated=_bools(_chance(rng, n, 0.02), _chance(rng, n, 0.01)),
        feedback_given=_bools(is_resolved, ~is_resolved | _chance(rng, n, 0.03)),
        satisfied=_bools(_chance(rng, n, 0.925), ~is_resolved | _chance(rng, n, 0.05)),
        ticket_id=tickets.ids.take(pa.array(np.clip(link, 0, None), mask=link < 0)),
    )


def _comments(rng: np.random.Generator, overall: np.ndarray, has: np.ndarray) -> pa.Array:
    """Survey comments from templates chosen by score, some with personal data."""
    n = overall.size
    cum = np.cumsum(_GROUP_P, axis=1)[overall - 1]
    group = (rng.random(n)[:, None] >= cum).sum(axis=1).clip(0, len(_COMMENT_GROUPS) - 1)
    sizes = np.array([len(g) for g in _COMMENT_GROUPS])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    template = offsets[group] + (rng.random(n) * sizes[group]).astype(np.int64)
    texts = [s for g in _COMMENT_GROUPS for s in g]
    plain_of = np.array([len(texts) + list(_PLAIN).index(s) if s in _PLAIN else -1 for s in texts])
    swap = (plain_of[template] >= 0) & _chance(rng, n, 0.7)
    template = np.where(swap, plain_of[template], template)
    base = _labels(texts + list(_PLAIN.values()), template)
    # a second sentence: a suggestion, or a closing phrase fitting the score
    second = np.where(
        _chance(rng, n, 0.5),
        rng.integers(0, len(_SUGGESTION), n),
        len(_SUGGESTION) + np.where(overall >= 4, 0, 3) + rng.integers(0, 3, n),
    )
    second = np.where((group != 4) & _chance(rng, n, 0.3), second, -1)
    extra = pc.fill_null(_labels(_SUGGESTION + _CLOSING_GOOD + _CLOSING_BAD, second), "")
    base = pc.binary_join_element_wise(base, extra, "")

    kind = _choice(rng, n, (0.05, 0.015, 0.006, 0.929))  # phone, e-mail, id card, none
    mobile = _MOBILE_PREFIXES[rng.integers(0, _MOBILE_PREFIXES.size, n)] * 10**8 + rng.integers(
        0, 10**8, n
    )
    phone = _fixed_ids("", mobile, 11)
    local = pc.binary_join_element_wise(
        _labels(_MAIL_NAMES, rng.integers(0, len(_MAIL_NAMES), n)),
        pc.cast(pa.array(rng.integers(1, 2000, n)), pa.string()),
        "",
    )
    mail = pc.binary_join_element_wise(
        local, _labels(_MAIL_DOMAINS, rng.integers(0, len(_MAIL_DOMAINS), n)), "@"
    )
    birth = (
        np.datetime64("1960-01-01") + rng.integers(0, 40 * 365, n).astype("timedelta64[D]")
    ).astype("datetime64[D]")
    month = birth.astype("datetime64[M]")
    ymd = (
        (month.astype("datetime64[Y]").astype(np.int64) + 1970) * 10_000
        + (month.astype(np.int64) % 12 + 1) * 100
        + (birth - month.astype("datetime64[D]")).astype(np.int64)
        + 1
    )
    first17 = (
        _ID_REGIONS[rng.integers(0, _ID_REGIONS.size, n)] * 10**11
        + ymd * 1000
        + rng.integers(1, 1000, n)
    )
    digits = (first17[:, None] // 10 ** np.arange(16, -1, -1)) % 10
    check = (digits * _ID_WEIGHTS).sum(axis=1) % 11
    id_card = pc.binary_join_element_wise(
        _fixed_ids("", first17, 17), _labels(_ID_CHECK, check), ""
    )
    empty = pa.array([""] * 1, pa.string()).take(pa.array(np.zeros(n, np.int32)))
    value = pc.if_else(
        pa.array(kind == 0),
        phone,
        pc.if_else(pa.array(kind == 1), mail, pc.if_else(pa.array(kind == 2), id_card, empty)),
    )
    variant = rng.integers(0, 12, n)
    pre = pc.if_else(
        pa.array(kind == 0),
        _labels(_PHONE_PRE, variant % len(_PHONE_PRE)),
        pc.if_else(
            pa.array(kind == 1),
            _labels(_MAIL_PRE, variant % len(_MAIL_PRE)),
            pc.if_else(pa.array(kind == 2), _labels(_ID_PRE, variant % len(_ID_PRE)), empty),
        ),
    )
    post = pc.if_else(
        pa.array(kind == 0),
        _labels(_PHONE_POST, variant % len(_PHONE_POST)),
        pc.if_else(
            pa.array(kind == 1),
            _labels(_MAIL_POST, variant % len(_MAIL_POST)),
            pc.if_else(pa.array(kind == 2), _labels(_ID_POST, variant % len(_ID_POST)), empty),
        ),
    )
    text = pc.binary_join_element_wise(base, pre, value, post, "")
    return pc.if_else(pa.array(has), text, pa.nulls(n, pa.string()))


def _surveys(ctx: _Ctx, tickets: _Tickets) -> pa.Table:
    rng = ctx.rng("surveys")
    d = ctx.drift
    n = ctx.count(ctx.size.surveys)
    t = ctx.arrivals(rng, n, _H_DIGITAL_WORK, _H_DIGITAL_OFF, 0.7, 1.6)
    link = _link(rng, tickets, t, 0.85, spread_days=4.0)
    linked = link >= 0
    li = np.clip(link, 0, None)
    cust = np.where(linked, tickets.customer[li], rng.integers(0, ctx.size.customers, n))
    cust = np.where(~linked & _chance(rng, n, 0.2), -1, cust)
    channel = np.where(linked, tickets.channel[li], _choice(rng, n, _TICKET_MIX_HOURS))
    s = d.satisfaction
    overall = 1 + _choice(rng, n, (0.008, 0.015, 0.045 - s, 0.40, 0.532 + s))
    # dimensions follow the overall score, each with its own bias
    shift_p = {
        "attitude": (0.07, 0.80, 0.13),
        "speed": (0.14, 0.76, 0.10),
        "expertise": (0.08, 0.80, 0.12),
        "resolution": (0.10, 0.78, 0.12),
        "value": (0.15, 0.76, 0.09),
    }
    dims = {
        k: _ints(np.clip(overall + _choice(rng, n, p) - 1, 1, 5), _chance(rng, n, 0.02))
        for k, p in shift_p.items()
    }
    lo = np.array([0, 2, 5, 7, 8])[overall - 1]
    hi = np.array([4, 6, 8, 10, 11])[overall - 1]
    nps = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
    has_comment = _chance(rng, n, np.array([0.8, 0.7, 0.5, 0.3, 0.3])[overall - 1])
    return _table(
        "surveys",
        response_id=_seq_ids(ctx, "WJ", n, 6),
        answered_at=_ts(t),
        overall=_ints(overall),
        **dims,
        nps=_ints(nps, _chance(rng, n, 0.03)),
        customer_id=_customer_ids(np.clip(cust, 0, None), cust < 0, ctx.tag),
        segment=_labels(_SEGMENTS, _segments(cust), cust < 0),
        channel=_labels(CHANNELS, channel, _chance(rng, n, 0.01)),
        ticket_id=tickets.ids.take(pa.array(li, mask=~linked)),
        comment=_comments(rng, overall, has_comment),
    )


def _training(ctx: _Ctx) -> pa.Table:
    rng = ctx.rng("training")
    st = ctx.staff
    assert st is not None
    ro = ctx.roster
    first = np.datetime64(ctx.period.first_day, "D")
    # one induction session per month, a few days after that month's hiring day
    n_months = ctx.period.months_long
    months = np.datetime64(ctx.period.first_day, "M") + np.arange(n_months)
    induction = np.busday_offset(_hire_days(months), 3, roll="forward")
    k = max(1, round(ctx.size.training_sessions * _span(ctx.period)) - n_months)
    workdays = np.flatnonzero(ctx.workday)
    pick = rng.choice(workdays, size=k, replace=k > workdays.size)
    dates = np.concatenate([induction, first + pick])
    topic = np.concatenate([np.full(n_months, len(_TOPICS)), rng.integers(0, len(_TOPICS), k)])
    hours = np.concatenate([np.full(n_months, 8.0), rng.choice([1.5, 2.0, 3.0, 4.0], k)])
    order = np.lexsort((topic, dates))
    dates, topic, hours = dates[order], topic[order], hours[order]
    day_s = _day_seconds(dates)
    # every frontline agent active at the period end attends one session after being hired;
    # everyone employed attends a few more
    role = ro.role[st.ridx]
    active_front = np.flatnonzero((role == 0) & (st.leave_s >= ctx.end) & (st.hire_s < ctx.end))
    employed = np.flatnonzero((st.hire_s < ctx.end) & (st.leave_s > ctx.start))
    extra = np.repeat(employed, rng.poisson(1.4, employed.size))
    who = np.concatenate([active_front, extra])
    lo = np.searchsorted(day_s, st.hire_s[who], side="left")
    hi = np.searchsorted(day_s, st.leave_s[who], side="left")
    new = ctx.roster.hired[st.ridx[who]] >= first
    sess = lo + (rng.random(who.size) * (hi - lo)).astype(np.int64)
    mandatory = np.arange(who.size) < active_front.size
    # new hires' mandatory session is the first induction on or after their hiring day
    ind_pos = np.flatnonzero(topic == len(_TOPICS))
    nxt = np.searchsorted(day_s[ind_pos], st.hire_s[who], side="left")
    ind_session = ind_pos[np.clip(nxt, 0, ind_pos.size - 1)]
    sess = np.where(mandatory & new, ind_session, sess)
    ok = hi > lo
    ok |= mandatory & new
    who, sess = who[ok], sess[ok]
    key = np.unique(sess.astype(np.int64) * 1_000_000 + who)
    sess, who = key // 1_000_000, key % 1_000_000
    n = who.size
    no_exam = topic[sess] == _DRILL
    score = np.clip(np.round(rng.normal(84 + 0.8 * ro.quality[st.ridx[who]], 7.5, n)), 40, 100)
    passed = score >= 70
    return _table(
        "training",
        session_id=_fixed_ids(f"PX{ctx.tag}{_token(ctx.period)}", sess + 1, 3),
        date=_dates(dates[sess]),
        topic=_labels((*_TOPICS, _INDUCTION), topic[sess]),
        hours=pa.array(hours[sess]),
        agent_id=st.ids.take(pa.array(who)),
        passed=_bools(passed, no_exam | _chance(rng, n, 0.01)),
        score=_ints(score, no_exam | _chance(rng, n, 0.03)),
    )


def _qa_reviews(ctx: _Ctx, sources: dict[str, _Handled]) -> pa.Table:
    rng = ctx.rng("qa_reviews")
    d = ctx.drift
    st = ctx.staff
    assert st is not None
    weight = {"call": 0.95, "chat": 1.05, "ticket": 1.0, "visit": 1.3}
    names = QA_SOURCES
    base = sum(sources[k].at.size for k in names)
    norm = sum(weight[k] * sources[k].at.size for k in names) / max(1, base)
    at_parts, agent_parts, src_parts = [], [], []
    for code, k in enumerate(names):  # four sources, not rows
        h = sources[k]
        m = min(h.at.size, round(d.qa_share * weight[k] / norm * h.at.size))
        pick = rng.choice(h.at.size, size=m, replace=False) if m else np.zeros(0, np.int64)
        at_parts.append(h.at[pick])
        agent_parts.append(h.agent[pick])
        src_parts.append(np.full(m, code))
    at = np.concatenate(at_parts)
    agent = np.concatenate(agent_parts)
    src = np.concatenate(src_parts)
    n = at.size
    at = np.minimum(at, ctx.end - 1)
    missing = agent < 0
    agent[missing] = ctx.agents(rng, at[missing].astype(np.int64))
    # reviewed the same or one of the next few days, in office hours; never after the period end
    later = np.floor((at - ctx.start) / _DAY) + rng.integers(0, 4, n)
    reviewed = ctx.start + later * _DAY + rng.integers(9 * _HOUR, 18 * _HOUR, n)
    reviewed = np.where(reviewed <= at, at + rng.integers(600, 7200, n), reviewed)
    over = reviewed >= ctx.end
    reviewed[over] = at[over] + (ctx.end - at[over]) * rng.random(int(over.sum()))
    reviewed = np.floor(reviewed).astype(np.int64)
    order = np.argsort(reviewed, kind="stable")
    reviewed, agent, src = reviewed[order], agent[order], src[order]
    quality = ctx.roster.quality[st.ridx[agent]]
    new = st.hire_s[agent] > reviewed - 90 * _DAY
    common = rng.normal(0, 2.5, n) + quality - np.where(new, 3.0, 0.0)
    critical = _chance(rng, n, d.qa_critical)

    def score(mean: float) -> np.ndarray:
        return np.clip(np.round(mean + common + rng.normal(0, 2.5, n)), 0, 100)

    prof, comp, exp = score(91.5), score(93.0), score(90.5)
    comp = np.where(critical, np.round(rng.uniform(30, 65, n)), comp)
    exp = np.where(critical, np.minimum(exp, np.round(rng.uniform(55, 80, n))), exp)
    return _table(
        "qa_reviews",
        review_id=_seq_ids(ctx, "ZJ", n, 7),
        reviewed_at=_ts(reviewed),
        agent_id=st.ids.take(pa.array(agent)),
        source=_labels(names, src, _chance(rng, n, 0.005)),
        professionalism=_ints(prof),
        compliance=_ints(comp),
        experience=_ints(exp),
        critical_error=_bools(critical, _chance(rng, n, 0.01)),
    )


# ---------------------------------------------------------------------------
# tables and files
# ---------------------------------------------------------------------------

_ARROW_TYPES = {
    "str": pa.string(),
    "enum": pa.string(),
    "datetime": pa.timestamp("s"),
    "date": pa.date32(),
    "bool": pa.bool_(),
    "int": pa.int64(),
}


def _table(name: str, **columns: pa.Array) -> pa.Table:
    """The dataset's columns in schema order, with the contract's types."""
    spec = DATASETS[name]
    if set(columns) != set(spec.names):
        raise AssertionError(f"{name}: columns {sorted(set(columns) ^ set(spec.names))}")
    arrays = []
    for col in spec.columns:
        arr = columns[col.name]
        want = _ARROW_TYPES.get(col.type)
        if want is not None and arr.type != want:
            arr = arr.cast(want)
        arrays.append(arr)
    return pa.table(arrays, names=list(spec.names))


def _write(table: pa.Table, path: Path) -> None:
    """Canonical CSV, written to a temporary file in the same folder and moved into place."""
    special = False
    for col in table.columns:
        if not special and pa.types.is_string(col.type):
            special = bool(pc.any(pc.match_substring_regex(col, '[,"\r\n]')).as_py())
    opts = pacsv.WriteOptions(
        quoting_style="needed" if special else "none",
        quoting_header="none",
        batch_size=65_536,
    )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pacsv.write_csv(table, tmp, opts)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _generate_period(
    period: Period,
    folder: Path,
    scale: str,
    seed: int,
    roster: _Roster,
    size: _Size | None = None,
    profile: _Profile | None = None,
    tag: str = "",
) -> list[Path]:
    ctx = _context(period, scale, seed, roster, size, profile, tag)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.csv" for name in DATASETS}

    _write(_staff(ctx), paths["staff"])
    table, incidents = _incidents(ctx)
    _write(table, paths["incidents"])
    table, tickets = _tickets(ctx)
    _write(table, paths["tickets"])
    del table
    calls_table, calls = _calls(ctx, incidents)
    _write(calls_table, paths["calls"])
    del calls_table
    chats_table, chats = _chats(ctx)
    _write(chats_table, paths["chats"])
    del chats_table
    visits_table, visits = _visits(ctx, tickets)
    _write(visits_table, paths["visits"])
    _write(_complaints(ctx, tickets), paths["complaints"])
    _write(_surveys(ctx, tickets), paths["surveys"])
    _write(_training(ctx), paths["training"])
    handled_tickets = _Handled(tickets.created.astype(float) + 1800.0, tickets.agent)
    sources = {"call": calls, "chat": chats, "ticket": handled_tickets, "visit": visits}
    _write(_qa_reviews(ctx, sources), paths["qa_reviews"])
    return [paths[name] for name in DATASETS]


def default_history(period: Period) -> int:
    """Periods before ``period`` the sample writes by default: what its comparisons need.

    A quarter: 4 (the trend's four, the first of them the year-ago quarter); a month: 12
    (back to the same month a year earlier); a half-year: 4 (the trend's); a year: 1 (上年,
    its 环比 and 同比 at once: a year's own trend is its quarters).
    """
    return {"year": 1, "half": 4, "quarter": 4, "month": 12}[period.kind]


def _checked(p: Period, scale: str, history: int | None, seed: int) -> int:
    """The arguments checked; the number of earlier periods to write."""
    if scale not in _SIZES:
        raise ParamsError(f"规模应为 {', '.join(_SIZES)} 之一 (unknown scale {scale!r})")
    if history is None:
        history = 0 if scale == "large" else default_history(p)
    if history < 0:
        raise ParamsError(f"history 不能为负数 (history must be ≥ 0), got {history}")
    if seed < 0:
        raise ParamsError(f"seed 不能为负数 (seed must be ≥ 0), got {seed}")
    first = p.shift(-history)
    if first.year < 2005 or p.year > 2099:
        raise ParamsError(f"示例数据只支持 2005–2099 年 (sample data covers 2005-2099), got {p}")
    return history


def generate(
    period: Period | str,
    root: Path | str,
    *,
    scale: ScaleName = "default",
    history: int | None = None,
    seed: int = 2026,
) -> dict[str, list[Path]]:
    """Write sample CSVs for ``period`` and ``history`` periods of its kind before it.

    Files go to ``root/<period>/<dataset>.csv``. ``history`` defaults, for the small
    and default scales, to what the comparisons need (:func:`default_history`: the
    same period a year earlier, and for a quarter the trend's four quarters), and to 0
    for large. Returns ``{period: [paths in schema order]}``, oldest period first.
    """
    p = Period.parse(period)
    history = _checked(p, scale, history, seed)
    roster = _roster(seed, scale)
    root = Path(root)
    out: dict[str, list[Path]] = {}
    for k in range(history, -1, -1):
        q = p.shift(-k)
        out[str(q)] = _generate_period(q, root / str(q), scale, seed, roster)
    return out


# ---------------------------------------------------------------------------
# a group of branches
# ---------------------------------------------------------------------------

MAX_BRANCHES = 60

_BRANCH_NAMES = (
    "华东分公司", "华南分公司", "华北分公司", "华中分公司", "西南分公司", "西北分公司",
    "东北分公司", "北京分公司", "上海分公司", "广州分公司", "深圳分公司", "天津分公司",
    "重庆分公司", "杭州分公司", "南京分公司", "苏州分公司", "武汉分公司", "成都分公司",
    "西安分公司", "青岛分公司", "济南分公司", "郑州分公司", "长沙分公司", "合肥分公司",
    "福州分公司", "厦门分公司", "南昌分公司", "昆明分公司", "贵阳分公司", "南宁分公司",
    "海口分公司", "沈阳分公司", "大连分公司", "长春分公司", "哈尔滨分公司", "石家庄分公司",
    "太原分公司", "呼和浩特分公司", "兰州分公司", "西宁分公司", "银川分公司", "乌鲁木齐分公司",
    "拉萨分公司", "宁波分公司", "无锡分公司", "佛山分公司", "东莞分公司", "温州分公司",
    "烟台分公司", "唐山分公司", "徐州分公司", "常州分公司", "泉州分公司", "珠海分公司",
    "洛阳分公司", "绍兴分公司", "嘉兴分公司", "潍坊分公司", "惠州分公司", "扬州分公司",
)  # fmt: skip

# the areas a branch can be strong or weak in: its profile field, value when strong, when weak
_BRANCH_AREAS: dict[str, tuple[str, str, float, float]] = {
    "phone": ("电话接听", "queue", 0.55, 2.2),
    "online": ("在线客服", "offhours", 0.5, 1.5),
    "tickets": ("工单处理", "handling", 0.8, 1.35),
    "visits": ("现场服务", "late", 0.45, 1.5),
    "complaints": ("投诉处理", "complaint_days", 0.45, 1.3),
    "satisfaction": ("客户满意度", "satisfaction", 0.02, -0.045),
    "qa": ("服务质检", "qa_critical", 0.45, 1.6),
}
_SECOND_WEAK = (3, 2, 4, 1, 5, 6, 3, 2, 4)  # offset of the second weak area, by i // 7


@dataclass(frozen=True)
class Branch:
    """One branch of a sample group: its id, name, size and profile.

    ``size`` multiplies the chosen scale's volumes; ``weak`` are the areas it falls short
    in, ``average`` the one where it is like the single-organisation sample (which has
    shortfalls of its own), and in every other area it is strong.
    """

    id: str
    name: str
    size: float
    weak: tuple[str, ...]
    average: str

    @property
    def weak_zh(self) -> str:
        return "、".join(_BRANCH_AREAS[a][0] for a in self.weak)

    def profile(self) -> _Profile:
        values: dict[str, float] = {}
        for area, (_, field, strong, weak) in _BRANCH_AREAS.items():
            if area in self.weak:
                values[field] = weak
            elif area != self.average:
                values[field] = strong
        return _Profile(**values)


def group_branches(n: int) -> list[Branch]:
    """The ``n`` branches (1–60) of a sample group, ``b01`` … ``bNN``.

    Sizes are spread evenly from 0.4 to 1.6 (1.0 for a single branch) and dealt out in
    the order of the fractional parts of k·φ, so neighbouring ids differ in size. Branch
    i (from 0) is weak in areas i and i + 3 (mod 7; the offset changes every seven
    branches), like the reference organisation in area i + 5 (or the next free one), and
    strong in the rest.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_BRANCHES:
        raise ParamsError(
            f"分支机构数应为 1–{MAX_BRANCHES}，当前为 {n!r} "
            f"(the number of branches must be 1 to {MAX_BRANCHES}, got {n!r})"
        )
    spread = np.linspace(0.4, 1.6, n) if n > 1 else np.array([1.0])
    order = np.argsort(((np.arange(1, n + 1) * 0.6180339887498949) % 1.0), kind="stable")
    size = np.empty(n)
    size[order] = spread
    areas = list(_BRANCH_AREAS)
    out = []
    for i in range(n):
        weak_codes = (i % 7, (i + _SECOND_WEAK[i // 7]) % 7)
        average = next(c % 7 for c in (i + 5, i + 6, i + 4) if c % 7 not in weak_codes)
        out.append(
            Branch(
                id=f"b{i + 1:02d}",
                name=_BRANCH_NAMES[i],
                size=round(float(size[i]), 2),
                weak=tuple(areas[c] for c in weak_codes),
                average=areas[average],
            )
        )
    return out


def _scaled(size: _Size, factor: float) -> _Size:
    return _Size(*(max(1, round(v * factor)) for v in vars(size).values()))


def branches_yaml(group: Sequence[Branch], root: Path | str) -> str:
    """The text of ``branches.yaml``: a ``branches:`` list to paste into a parameters file."""
    root_text = Path(root).as_posix()
    lines = [
        "# 示例集团的分支机构（selfcheck sample --branches 生成），可复制到参数文件中。",
        "# data_dir 按 --out 原样写出；相对路径以参数文件所在目录为基准，必要时相应修改。",
        "branches:",
    ]
    for b in group:
        data_dir = json.dumps(f"{root_text}/{b.id}/{{period}}", ensure_ascii=False)
        lines.append(
            f"  - {{id: {b.id}, name: {b.name}, data_dir: {data_dir}}}"
            f"  # 规模 {b.size:.2f}×，薄弱：{b.weak_zh}"
        )
    return "\n".join(lines) + "\n"


def generate_group(
    period: Period | str,
    root: Path | str,
    *,
    branches: int,
    scale: ScaleName = "default",
    history: int | None = None,
    seed: int = 2026,
) -> dict[str, dict[str, list[Path]]]:
    """Write sample data for a group of ``branches`` branches, and ``root/branches.yaml``.

    Branch k (``b01`` … ``bNN``, see :func:`group_branches`) gets the files :func:`generate`
    writes, under ``root/<id>/<period>/<dataset>.csv``, from seed ``seed + k``, with its
    size and profile; its record ids (agents, customers, tickets …) carry its number, so
    no two branches share one. Returns ``{branch id: {period: [paths]}}``.
    """
    p = Period.parse(period)
    group = group_branches(branches)
    history = _checked(p, scale, history, seed)
    root = Path(root)
    out: dict[str, dict[str, list[Path]]] = {}
    for k, b in enumerate(group, start=1):
        size = _scaled(_SIZES[scale], b.size)
        roster = _roster(seed + k, scale, size)
        profile = b.profile()
        written: dict[str, list[Path]] = {}
        for back in range(history, -1, -1):
            q = p.shift(-back)
            written[str(q)] = _generate_period(
                q, root / b.id / str(q), scale, seed + k, roster, size, profile, f"{k:02d}"
            )
        out[b.id] = written
    _write_text(branches_yaml(group, root), root / "branches.yaml")
    return out


def _write_text(text: str, path: Path) -> None:
    """A UTF-8 text file, written to a temporary file in the same folder and moved into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
