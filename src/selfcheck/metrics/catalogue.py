"""The metric catalogue: every metric of ``spec/metrics.md`` with its 口径 (definition as used).

``CATALOGUE`` maps each metric id to a :class:`MetricDef`. ``name`` is the Chinese name
of the spec, verbatim; where the spec gives several ids one name (``tickets.sla_rate.L1``
… ``.L3``, ``online.workday_p90_minutes`` / ``online.offhours_p90_minutes``,
``satisfaction.index.attitude`` …) ``qualifier`` tells them apart and ``full_name`` is
the label to show (``时效达标率（L1）``).

``definition`` is the Chinese 口径 text printed in the appendix. Parameters appear as
``{placeholders}``: any field of :class:`~selfcheck.thresholds.Thresholds` (nested ones
as ``{sla_hours.L1}``, ``{arrival_minutes.emergency_core}``) plus ``{work_start}`` and
``{work_end}`` of the :class:`~selfcheck.calendar.WorkCalendar`. ``sla_clock`` is
printed as its Chinese label. :func:`definition_text` fills them in.

Breakdown ids (one row per key in ``metrics.csv``) are ``BASE:KEY`` or
``BASE.dimension:KEY``, e.g. ``satisfaction.index.segment:大客户`` or
``visits.emergency_late_rate.area:core``; :func:`lookup` resolves them to the definition
of their base. ``satisfaction.index.segment`` is itself listed (``keyed=True``) because
the spec gives it its own name (分客群得分); it only ever has values per key.

Shared wording: :func:`reason_no_dataset`, :func:`reason_no_column` and
:data:`REASON_EMPTY` give the Chinese reasons for metrics without a value, so every
area words them alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from types import SimpleNamespace
from typing import Any

from selfcheck.calendar import WorkCalendar
from selfcheck.metrics.base import UNITS
from selfcheck.schema import DATASETS
from selfcheck.thresholds import Thresholds

AREAS = (
    "phone",
    "online",
    "tickets",
    "visits",
    "complaints",
    "satisfaction",
    "team",
    "training",
    "qa",
    "system",
)

SLA_CLOCK_ZH = {"calendar": "自然时间连续计时", "business": "仅计工作时间"}


@dataclass(frozen=True)
class MetricDef:
    id: str
    name: str  # Chinese name, exactly as in metrics.md
    unit: str  # a key of base.UNITS
    area: str  # one of AREAS
    datasets: tuple[str, ...]  # datasets the metric needs
    definition: str  # 口径 with {placeholders}
    qualifier: str = ""  # tells apart ids that share one spec name (L1, 工作时间 …)
    keyed: bool = False  # values exist only per breakdown key (BASE:KEY)

    @property
    def full_name(self) -> str:
        return f"{self.name}（{self.qualifier}）" if self.qualifier else self.name


# -- reasons ---------------------------------------------------------------

REASON_EMPTY = "样本为0"


def reason_no_dataset(dataset: str) -> str:
    """``未提供电话数据 (calls)``."""
    return f"未提供{DATASETS[dataset].zh}数据 ({dataset})"


def reason_no_column(dataset: str, column: str) -> str:
    """``缺少列 ring_seconds（振铃时长）``."""
    try:
        zh = DATASETS[dataset].column(column).zh
    except KeyError:
        return f"缺少列 {column}"
    return f"缺少列 {column}（{zh}）"


# -- the catalogue ----------------------------------------------------------

_NEXT_INSTANT = "期末（季度结束后的第一个时刻，如第三季度为10月1日00:00）"

_PHONE_SHORT = (
    "短时放弃＝结果为排队放弃且排队时长已知并小于{short_abandon_seconds}秒的来电"
    "（恰为{short_abandon_seconds}秒不算短时放弃；排队时长缺失的放弃来电不视为短时放弃）"
)
_PHONE_OFFERED = (
    "请求人工量＝人工接听的来电＋非短时放弃的排队放弃来电（自助服务结束、忙音/未接入不计入）；"
    + _PHONE_SHORT
)
_PHONE_QUEUE = "人工接听且排队时长已知的来电"

_ONLINE_HUMAN = "人工请求＝“机器人解决”不为“是”的会话（该字段为空或无该列时视为人工请求）"
_ONLINE_WINDOW = (
    "发起时间落在工作日（按国家法定节假日安排，含调休上班日、不含法定节假日）"
    "{work_start}（含）至{work_end}（不含）之间的为工作时间窗口，其余为非工作时间窗口"
)
_ONLINE_RESPONSE = "响应时长＝首次人工回复时间−发起时间，按完整时间戳精确到秒计算后折算为自然分钟"


def _online_timeout(window: str, limit: str) -> str:
    return (
        f"{window}窗口内人工请求中超时的请求 ÷ {window}窗口人工请求数；"
        f"超时＝无人工回复，或响应时长大于{{{limit}}}分钟（恰为{{{limit}}}分钟不算超时）；"
        f"时限只按发起时间所在窗口确定（如工作日17:58发起的仍适用工作时间时限）；"
        f"{_ONLINE_HUMAN}；{_ONLINE_WINDOW}；{_ONLINE_RESPONSE}"
    )


def _online_avg(window: str) -> str:
    return (
        f"{window}窗口内已获人工回复的人工请求的响应时长算术平均值（分钟），"
        f"无人工回复的请求不计入；{_ONLINE_HUMAN}；{_ONLINE_WINDOW}；{_ONLINE_RESPONSE}"
    )


def _online_p90(window: str) -> str:
    return (
        f"{window}窗口内已获人工回复的人工请求的响应时长第90百分位数（分钟，线性插值），"
        f"无人工回复的请求不计入；{_ONLINE_HUMAN}；{_ONLINE_WINDOW}；{_ONLINE_RESPONSE}"
    )


def _visit_late(kind: str, zh: str) -> str:
    return (
        f"到场超时的{zh}服务单 ÷ 有到场时间的{zh}服务单；到场超时＝到场时间−接报时间大于到场时限"
        f"（{zh}·城市核心区{{arrival_minutes.{kind}_core}}分钟、"
        f"{zh}·郊区/偏远{{arrival_minutes.{kind}_suburb}}分钟，按服务类型与区域确定；"
        f"恰为时限不算超时）；无到场时间的服务单不计入分子分母（作为数据缺口统计）；"
        f"另按区域（城市核心区 core、郊区/偏远 suburb）分列"
    )


_DONE_BY_END = "报告反映期末状态：完成类时间（解决、方案、首次响应、关闭、归档等）在期末或之后的，视为期末尚未完成"


def _sla(level: str) -> str:
    done = "解决时间" if level != "L3" else "方案时间（无方案时间时取解决时间）"
    return (
        f"{level}工单中达标数 ÷（达标数＋超时数）；达标＝{done}−受理时间不超过"
        f"{{sla_hours.{level}}}小时（恰为时限算达标）；超时＝超过时限才完成，"
        f"或至{_NEXT_INSTANT}仍未完成且已超过时限；期末仍未完成且尚未超过时限的为待定，不计入；"
        f"{_DONE_BY_END}；计时方式：{{sla_clock}}（仅计工作时间时，只计工作日——含调休上班日、"
        f"不含法定节假日——{{work_start}}–{{work_end}}内的时长）"
    )


def _sat_dim(column: str, zh: str) -> str:
    return (
        f"“{zh}”（{column}）平均分 ÷ 量表满分{{survey_scale}} × 100，仅计该项已填写的问卷；"
        f"样本量低于{{min_sample}}标注“样本量不足”"
    )


_C = "calls"
_O = "chats"
_T = "tickets"
_V = "visits"
_P = "complaints"
_S = "surveys"
_F = "staff"
_R = "training"
_Q = "qa_reviews"
_I = "incidents"

_DEFS: tuple[MetricDef, ...] = (
    # -- phone ---------------------------------------------------------------
    MetricDef(
        "phone.calls",
        "来电总量",
        "count",
        "phone",
        (_C,),
        "本期全部来电（人工接听、排队放弃、自助服务结束、忙音/未接入），按来电时间归属本期",
    ),
    MetricDef("phone.offered", "请求人工量", "count", "phone", (_C,), _PHONE_OFFERED),
    MetricDef(
        "phone.answer_rate",
        "人工接通率",
        "rate",
        "phone",
        (_C,),
        "人工接听的来电 ÷ 请求人工量；短时放弃不计入分子分母；" + _PHONE_OFFERED,
    ),
    MetricDef(
        "phone.abandon_rate",
        "排队放弃率",
        "rate",
        "phone",
        (_C,),
        "非短时放弃的排队放弃来电 ÷ 请求人工量；" + _PHONE_OFFERED,
    ),
    MetricDef(
        "phone.service_level",
        "45秒接通率",
        "rate",
        "phone",
        (_C,),
        "排队时长已知且不超过{service_level_seconds}秒（含{service_level_seconds}秒）"
        "人工接听的来电 ÷ 请求人工量；排队时长缺失的接听来电不计为及时接通，但计入分母；"
        + _PHONE_OFFERED,
    ),
    MetricDef(
        "phone.asa_seconds",
        "平均排队时长",
        "seconds",
        "phone",
        (_C,),
        _PHONE_QUEUE + "的排队时长算术平均值（秒）",
    ),
    MetricDef(
        "phone.queue_p90_seconds",
        "排队时长P90",
        "seconds",
        "phone",
        (_C,),
        _PHONE_QUEUE + "的排队时长第90百分位数（秒，线性插值）",
    ),
    MetricDef(
        "phone.queue_max_seconds",
        "最长排队时长",
        "seconds",
        "phone",
        (_C,),
        _PHONE_QUEUE + "的排队时长最大值（秒）",
    ),
    MetricDef(
        "phone.ring_late_rate",
        "振铃超时率",
        "rate",
        "phone",
        (_C,),
        "振铃时长大于{ring_limit_seconds}秒的来电 ÷ 振铃时长已知的来电（各种结果的来电均计入）；"
        "恰为{ring_limit_seconds}秒不算超时",
    ),
    MetricDef(
        "phone.busy_rate",
        "占线率",
        "rate",
        "phone",
        (_C,),
        "结果为忙音/未接入的来电 ÷ 来电总量",
    ),
    MetricDef(
        "phone.aht_seconds",
        "平均通话时长",
        "seconds",
        "phone",
        (_C,),
        "人工接听且通话时长已知的来电的通话时长算术平均值（秒）",
    ),
    # -- online --------------------------------------------------------------
    MetricDef(
        "online.sessions",
        "在线会话量",
        "count",
        "online",
        (_O,),
        "本期全部在线会话（含机器人独立解决的会话），按发起时间归属本期",
    ),
    MetricDef(
        "online.bot_only_rate",
        "机器人独立解决率",
        "rate",
        "online",
        (_O,),
        "“机器人解决”为“是”的会话 ÷ 该字段已填写的会话",
    ),
    MetricDef(
        "online.workday_timeout_rate",
        "工作时间超时率",
        "rate",
        "online",
        (_O,),
        _online_timeout("工作时间", "online_workday_minutes"),
    ),
    MetricDef(
        "online.offhours_timeout_rate",
        "非工作时间超时率",
        "rate",
        "online",
        (_O,),
        _online_timeout("非工作时间", "online_offhours_minutes"),
    ),
    MetricDef(
        "online.workday_avg_minutes",
        "工作时间平均响应时长",
        "minutes",
        "online",
        (_O,),
        _online_avg("工作时间"),
    ),
    MetricDef(
        "online.offhours_avg_minutes",
        "非工作时间平均响应时长",
        "minutes",
        "online",
        (_O,),
        _online_avg("非工作时间"),
    ),
    MetricDef(
        "online.workday_p90_minutes",
        "响应时长P90",
        "minutes",
        "online",
        (_O,),
        _online_p90("工作时间"),
        qualifier="工作时间",
    ),
    MetricDef(
        "online.offhours_p90_minutes",
        "响应时长P90",
        "minutes",
        "online",
        (_O,),
        _online_p90("非工作时间"),
        qualifier="非工作时间",
    ),
    MetricDef(
        "online.offhours_notice_rate",
        "非工作时间标注率",
        "rate",
        "online",
        (_O,),
        "非工作时间窗口内已获人工回复的人工请求中“非工作时间标注”为“是”的 ÷ "
        "其中该字段已填写的；" + _ONLINE_HUMAN + "；" + _ONLINE_WINDOW,
    ),
    # -- tickets -------------------------------------------------------------
    MetricDef(
        "tickets.total",
        "工单总量",
        "count",
        "tickets",
        (_T,),
        "本期受理的全部工单，按受理时间归属本期；另按受理渠道、处理级别（均列出全部取值，含0）、"
        "问题类别（按工单数降序，未填写的不列）分列",
    ),
    MetricDef(
        "tickets.sla_rate.L1", "时效达标率", "rate", "tickets", (_T,), _sla("L1"), qualifier="L1"
    ),
    MetricDef(
        "tickets.sla_rate.L2", "时效达标率", "rate", "tickets", (_T,), _sla("L2"), qualifier="L2"
    ),
    MetricDef(
        "tickets.sla_rate.L3", "时效达标率", "rate", "tickets", (_T,), _sla("L3"), qualifier="L3"
    ),
    MetricDef(
        "tickets.first_response_median_minutes",
        "首次响应时长中位数",
        "minutes",
        "tickets",
        (_T,),
        "首次响应时间−受理时间的中位数（分钟），仅计期末前有首次响应时间的工单；" + _DONE_BY_END,
    ),
    MetricDef(
        "tickets.resolution_median_hours",
        "解决时长中位数",
        "hours",
        "tickets",
        (_T,),
        "解决时间−受理时间的中位数（小时），仅计期末前已解决的工单；" + _DONE_BY_END,
    ),
    MetricDef(
        "tickets.bot_resolution_rate",
        "智能客服解决率",
        "rate",
        "tickets",
        (_T,),
        "“智能客服解决”为“是”的工单 ÷ 该字段已填写的工单",
    ),
    MetricDef(
        "tickets.transfer_rate",
        "转人工率",
        "rate",
        "tickets",
        (_T,),
        "“转人工”为“是”的工单 ÷ 该字段已填写的工单",
    ),
    MetricDef(
        "tickets.repeat_contact_rate",
        "重复来访率",
        "rate",
        "tickets",
        (_T,),
        "同一客户在该工单受理前{repeat_window_days}×24小时内（含）另有受理时间更早的工单（不限渠道）"
        "的工单 ÷ 有客户编号的工单；同一客户受理时间相同（同一秒）的工单互不视为更早；"
        "只在本期工单中查找",
    ),
    MetricDef(
        "tickets.handoffs_mean",
        "平均流转环节",
        "mean",
        "tickets",
        (_T,),
        "流转环节数的算术平均值，仅计该字段已填写的工单",
    ),
    MetricDef(
        "tickets.reopen_rate",
        "重开率",
        "rate",
        "tickets",
        (_T,),
        "“是否重开”为“是”的工单 ÷ 期末前已解决的工单（“是否重开”为空的计入分母）；" + _DONE_BY_END,
    ),
    MetricDef(
        "tickets.escalation_rate",
        "升级率",
        "rate",
        "tickets",
        (_T,),
        "“是否升级”为“是”的工单 ÷ 该字段已填写的工单",
    ),
    MetricDef(
        "tickets.backlog",
        "期末未结工单",
        "count",
        "tickets",
        (_T,),
        f"本期受理、至{_NEXT_INSTANT}仍未解决的工单数（L3工单有方案时间或解决时间即视为已结）；"
        f"{_DONE_BY_END}；另按账龄（期末−受理时间）分列：≤1天、1-3天（含3天）、3-7天（含7天）、>7天",
    ),
    MetricDef(
        "tickets.archive_late_rate",
        "归档超时率",
        "rate",
        "tickets",
        (_T,),
        "期末前已关闭或已解决的工单中，归档时间晚于关闭时间（无关闭时间时取解决时间）超过"
        "{archive_limit_hours}小时（恰为时限不算超时），或至期末仍未归档且已超过该时限的工单 ÷ "
        "期末前已关闭或已解决的工单；至期末仍未归档且尚未超过时限的为待定，不计入分子分母；"
        + _DONE_BY_END,
        qualifier="工单",
    ),
    MetricDef(
        "tickets.peak_ratio",
        "峰值倍数",
        "ratio",
        "tickets",
        (_T,),
        "单日最多工单数 ÷（工单总量 ÷ 本期自然日数）；按受理时间所在自然日计",
    ),
    # -- visits --------------------------------------------------------------
    MetricDef(
        "visits.total",
        "现场服务量",
        "count",
        "visits",
        (_V,),
        "本期全部现场服务单，按接报时间归属本期",
    ),
    MetricDef(
        "visits.confirm_late_rate",
        "预约确认超时率",
        "rate",
        "visits",
        (_V,),
        "预约确认时间−接报时间大于{confirm_limit_minutes}分钟（恰为{confirm_limit_minutes}分钟"
        "不算超时），或无预约确认时间的服务单 ÷ 全部服务单",
    ),
    MetricDef(
        "visits.emergency_late_rate",
        "紧急到场超时率",
        "rate",
        "visits",
        (_V,),
        _visit_late("emergency", "紧急"),
    ),
    MetricDef(
        "visits.regular_late_rate",
        "常规到场超时率",
        "rate",
        "visits",
        (_V,),
        _visit_late("regular", "常规"),
    ),
    MetricDef(
        "visits.eta_notice_rate",
        "到场时间告知率",
        "rate",
        "visits",
        (_V,),
        "“已告知预计到达”为“是”的郊区/偏远紧急服务单 ÷ 该字段已填写的郊区/偏远紧急服务单"
        "（不论是否有到场时间）",
    ),
    MetricDef(
        "visits.compensation_rate",
        "超时补偿执行率",
        "rate",
        "visits",
        (_V,),
        "“已补偿”为“是”的到场超时常规服务单 ÷ 该字段已填写的到场超时常规服务单；"
        "到场超时口径同常规到场超时率（到场时间−接报时间大于常规·城市核心区"
        "{arrival_minutes.regular_core}分钟、常规·郊区/偏远{arrival_minutes.regular_suburb}分钟），"
        "无到场时间的不计入",
    ),
    MetricDef(
        "visits.node_completion_rate",
        "关键节点完成率",
        "rate",
        "visits",
        (_V,),
        "Σ完成节点数 ÷ Σ关键节点数，仅计两项均已填写的服务单；逐单不作截断"
        "（完成节点数大于关键节点数时按填写值计入）",
    ),
    MetricDef(
        "visits.acceptance_rate",
        "验收单签署率",
        "rate",
        "visits",
        (_V,),
        "“验收签署”为“是”的已完成服务单 ÷ 该字段已填写的已完成服务单；已完成＝有完成时间",
    ),
    MetricDef(
        "visits.dissatisfied_rate",
        "效果不满意率",
        "rate",
        "visits",
        (_V,),
        "“效果不满意”为“是”的已完成服务单 ÷ 该字段已填写的已完成服务单；已完成＝有完成时间",
    ),
    MetricDef(
        "visits.extra_fee_complaint_rate",
        "额外收费投诉率",
        "rate",
        "visits",
        (_V,),
        "“额外收费投诉”为“是”的已完成服务单 ÷ 该字段已填写的已完成服务单；已完成＝有完成时间",
    ),
    MetricDef(
        "visits.archive_late_rate",
        "归档超时率",
        "rate",
        "visits",
        (_V,),
        "归档时间−完成时间大于{archive_limit_hours}小时（恰为{archive_limit_hours}小时不算超时）"
        "或无归档时间的已完成服务单 ÷ 已完成服务单；已完成＝有完成时间",
        qualifier="现场服务",
    ),
    # -- complaints ----------------------------------------------------------
    MetricDef(
        "complaints.total",
        "投诉总量",
        "count",
        "complaints",
        (_P,),
        "本期受理的全部投诉，按受理时间归属本期；另按投诉类型分列件数、占比及占比变化"
        "（列出本期出现的类型，默认类型在前，其余按件数降序）",
    ),
    MetricDef(
        "complaints.share",
        "投诉类型占比",
        "rate",
        "complaints",
        (_P,),
        "各投诉类型的投诉数 ÷ 投诉总量（列出本期出现的类型）",
        keyed=True,
    ),
    MetricDef(
        "complaints.per_10k_tickets",
        "万单投诉率",
        "per10k",
        "complaints",
        (_P, _T),
        "投诉总量 ÷ 工单总量 × 10000",
    ),
    MetricDef(
        "complaints.resolution_rate",
        "投诉办结率",
        "rate",
        "complaints",
        (_P,),
        f"至{_NEXT_INSTANT}前已办结的投诉 ÷ 投诉总量；办结时间在期末或之后的视为未办结",
    ),
    MetricDef(
        "complaints.handling_workdays_mean",
        "平均办结时长(工作日)",
        "workdays",
        "complaints",
        (_P,),
        "期末前已办结投诉自受理时间至办结时间的工作日数的算术平均值；工作日数＝两时刻之间落在工作日"
        "（含调休上班日、不含法定节假日）{work_start}–{work_end}内的时长 ÷ 每日工作时长（可为小数）",
    ),
    MetricDef(
        "complaints.escalation_rate",
        "投诉升级率",
        "rate",
        "complaints",
        (_P,),
        "“是否升级”为“是”的投诉 ÷ 该字段已填写的投诉",
    ),
    MetricDef(
        "complaints.feedback_rate",
        "改进反馈率",
        "rate",
        "complaints",
        (_P,),
        "“已反馈改进”为“是”的已办结投诉 ÷ 该字段已填写的已办结投诉；已办结＝办结时间早于期末",
    ),
    MetricDef(
        "complaints.repeat_rate",
        "重复投诉率",
        "rate",
        "complaints",
        (_P,),
        "同一客户在该投诉受理前{repeat_complaint_days}×24小时内（含）有受理时间更早的同类型投诉的"
        "投诉 ÷ 有客户编号的投诉；受理时间相同（同一秒）的投诉互不视为更早；只在本期投诉中查找",
    ),
    MetricDef(
        "complaints.satisfaction_rate",
        "投诉处理满意率",
        "rate",
        "complaints",
        (_P,),
        "“处理满意”为“是”的投诉 ÷ 该字段已填写的投诉",
    ),
    # -- satisfaction --------------------------------------------------------
    MetricDef(
        "satisfaction.responses",
        "有效问卷数",
        "count",
        "satisfaction",
        (_S,),
        "本期有效问卷数：总体满意度在1–{survey_scale}分之内的问卷，按填写时间归属本期；超出量表的分值不计入",
    ),
    MetricDef(
        "satisfaction.index",
        "满意度综合得分",
        "score",
        "satisfaction",
        (_S,),
        "总体满意度平均分 ÷ 量表满分{survey_scale} × 100（超出1–{survey_scale}分的值剔除）；附95% t区间；"
        "样本量低于{min_sample}标注“样本量不足”；与上季度比较用Welch t检验",
    ),
    MetricDef(
        "satisfaction.top_box_rate",
        "满意率",
        "rate",
        "satisfaction",
        (_S,),
        "总体满意度不低于量表满分{survey_scale}的80%的问卷 ÷ 有效问卷；附95% Wilson区间；"
        "样本量低于{min_sample}标注“样本量不足”；与上季度比较用两独立比例检验",
    ),
    MetricDef(
        "satisfaction.index.attitude",
        "分项得分",
        "score",
        "satisfaction",
        (_S,),
        _sat_dim("attitude", "服务态度"),
        qualifier="服务态度",
    ),
    MetricDef(
        "satisfaction.index.speed",
        "分项得分",
        "score",
        "satisfaction",
        (_S,),
        _sat_dim("speed", "响应速度"),
        qualifier="响应速度",
    ),
    MetricDef(
        "satisfaction.index.expertise",
        "分项得分",
        "score",
        "satisfaction",
        (_S,),
        _sat_dim("expertise", "专业能力"),
        qualifier="专业能力",
    ),
    MetricDef(
        "satisfaction.index.resolution",
        "分项得分",
        "score",
        "satisfaction",
        (_S,),
        _sat_dim("resolution", "问题解决"),
        qualifier="问题解决",
    ),
    MetricDef(
        "satisfaction.index.value",
        "分项得分",
        "score",
        "satisfaction",
        (_S,),
        _sat_dim("value", "性价比感知"),
        qualifier="性价比感知",
    ),
    MetricDef(
        "satisfaction.index.segment",
        "分客群得分",
        "score",
        "satisfaction",
        (_S,),
        "各客户类型（segment）问卷的总体满意度平均分 ÷ 量表满分{survey_scale} × 100；"
        "样本量低于{min_sample}标注“样本量不足”",
        keyed=True,
    ),
    MetricDef(
        "satisfaction.nps",
        "净推荐值",
        "nps",
        "satisfaction",
        (_S,),
        "推荐意愿9–10分的问卷占比 − 0–6分的问卷占比，× 100；仅计推荐意愿已填写且在0–10之内的问卷",
    ),
    # -- team ----------------------------------------------------------------
    MetricDef(
        "team.headcount",
        "人员总数",
        "count",
        "team",
        (_F,),
        "期末在岗人员数；在岗＝入职日期不晚于本季度最后一天且（无离职日期或离职日期晚于最后一天）；"
        "入职日期为空视为期初前入职；另按岗位类别分列",
    ),
    MetricDef(
        "team.certified_rate",
        "持证上岗率",
        "rate",
        "team",
        (_F,),
        "“持证上岗”为“是”的在岗人员 ÷ 该字段已填写的在岗人员",
    ),
    MetricDef(
        "team.tenure_years_mean",
        "平均服务年限",
        "years",
        "team",
        (_F,),
        "在岗人员自入职日期至本季度最后一天的天数 ÷ 365.25 的算术平均值",
    ),
    MetricDef(
        "team.multilingual_rate",
        "多语种人员占比",
        "rate",
        "team",
        (_F,),
        "服务语种数不少于2的在岗人员 ÷ 该字段已填写的在岗人员",
    ),
    MetricDef(
        "team.turnover_rate",
        "人员流失率",
        "rate",
        "team",
        (_F,),
        "离职日期在本季度首日至最后一天之间的人员数（含本期新入职后离职者）÷ 期初在岗人员数；"
        "期初在岗＝入职日期早于首日且（无离职日期或离职日期不早于首日）",
    ),
    # -- training ------------------------------------------------------------
    MetricDef(
        "training.sessions",
        "培训场次",
        "count",
        "training",
        (_R,),
        "本期培训场次数（按培训场次编号去重）",
    ),
    MetricDef(
        "training.hours",
        "培训时长",
        "hours",
        "training",
        (_R,),
        "各培训场次学时之和（每个场次只计一次；同一场次各行学时不一致时取出现次数最多的值，并列取较小值）",
    ),
    MetricDef(
        "training.person_hours",
        "培训人时",
        "hours",
        "training",
        (_R,),
        "全部参训记录的学时之和（每人每场计一次）",
    ),
    MetricDef(
        "training.coverage_rate",
        "一线培训覆盖率",
        "rate",
        "training",
        (_R, _F),
        "本期至少参加过一次培训的在岗一线人员 ÷ 在岗一线人员（按工号对应人员名单）",
    ),
    MetricDef(
        "training.pass_rate",
        "考核合格率",
        "rate",
        "training",
        (_R,),
        "“考核通过”为“是”的参训记录 ÷ 该字段已填写的参训记录",
    ),
    # -- quality inspection --------------------------------------------------
    MetricDef("qa.reviews", "质检量", "count", "qa", (_Q,), "本期质检记录数，按质检时间归属本期"),
    MetricDef(
        "qa.sampling_rate",
        "质检抽样率",
        "rate",
        "qa",
        (_Q, _C, _O, _T, _V),
        "质检量 ÷ 抽样基数；抽样基数＝质检记录中出现的来源对应量之和：人工接听的来电（call）、"
        "获人工回复的在线会话（chat）、工单（ticket）、现场服务单（visit）；无来源列时为四者之和",
    ),
    MetricDef(
        "qa.score_mean",
        "质检平均分",
        "score",
        "qa",
        (_Q,),
        "每条质检得分＝专业性、规范性、客户体验三项的平均（三项均在0–100之内方计分）；"
        "全部质检得分的算术平均值，附95% t区间；另按维度、班组（按工号对应人员名单，"
        "无法对应的归入“未知班组”）和坐席分列",
    ),
    MetricDef(
        "qa.pass_rate",
        "质检合格率",
        "rate",
        "qa",
        (_Q,),
        "质检得分不低于{qa_pass_score}分的质检记录 ÷ 质检量",
    ),
    MetricDef(
        "qa.critical_error_rate",
        "致命差错率",
        "rate",
        "qa",
        (_Q,),
        "“致命差错”为“是”的质检记录 ÷ 该字段已填写的质检记录",
    ),
    # -- systems -------------------------------------------------------------
    MetricDef("system.incidents", "故障次数", "count", "system", (_I,), "本期发生的系统故障次数"),
    MetricDef(
        "system.mttr_minutes",
        "平均修复时长",
        "minutes",
        "system",
        (_I,),
        "期末前已恢复故障的恢复时间−发生时间的算术平均值（分钟）；恢复时间在期末或之后的视为未恢复",
    ),
    MetricDef(
        "system.interruption_hours",
        "服务中断时长",
        "hours",
        "system",
        (_I,),
        "“服务中断”为“是”的故障的持续时长（恢复时间−发生时间）之和（小时）；至期末仍未恢复的"
        "（含恢复时间在期末或之后的）计至期末",
    ),
    MetricDef(
        "system.major_incidents",
        "重大故障次数",
        "count",
        "system",
        (_I,),
        "级别为“重大”的故障次数（级别为空的不计入）",
    ),
)

CATALOGUE: dict[str, MetricDef] = {d.id: d for d in _DEFS}

if len(CATALOGUE) != len(_DEFS):  # pragma: no cover - guards against a duplicated id
    raise RuntimeError("duplicate metric id in the catalogue")
for _d in _DEFS:  # pragma: no cover - guards the constants above
    if _d.unit not in UNITS or _d.area not in AREAS or not set(_d.datasets) <= set(DATASETS):
        raise RuntimeError(f"bad catalogue entry {_d.id}")


def lookup(metric_id: str) -> MetricDef:
    """The definition of a metric id or of a breakdown id (``BASE:KEY``, ``BASE.dim:KEY``).

    Raises ``KeyError`` for an unknown id.
    """
    found = CATALOGUE.get(metric_id)
    if found is not None:
        return found
    base, sep, key = metric_id.partition(":")
    if sep and key and base:
        found = CATALOGUE.get(base)
        if found is not None:
            return found
        parent, dot, dim = base.rpartition(".")
        if dot and dim and parent in CATALOGUE:
            return CATALOGUE[parent]
    raise KeyError(metric_id)


def area_ids(area: str) -> tuple[str, ...]:
    """The ids of one area that carry a value of their own (keyed rows left out)."""
    return tuple(d.id for d in _DEFS if d.area == area and not d.keyed)


def format_value(value: Any) -> str:
    """A parameter as printed in a definition: ``45`` not ``45.0``, ``2.5`` as is."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, time):
        return value.strftime("%H:%M") if value.second == 0 else value.strftime("%H:%M:%S")
    return str(value)


def _placeholders(th: Thresholds, cal: WorkCalendar) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in type(th).model_fields:
        v = getattr(th, field)
        if hasattr(type(v), "model_fields"):
            values[field] = SimpleNamespace(
                **{k: format_value(getattr(v, k)) for k in type(v).model_fields}
            )
        elif field == "sla_clock":
            values[field] = SLA_CLOCK_ZH.get(v, str(v))
        else:
            values[field] = format_value(v)
    values["work_start"] = format_value(cal.work_start)
    values["work_end"] = format_value(cal.work_end)
    return values


def definition_text(
    metric_id: str, thresholds: Thresholds | None = None, calendar: WorkCalendar | None = None
) -> str:
    """The 口径 of a metric (or breakdown id) with the parameter values used filled in."""
    d = lookup(metric_id)
    values = _placeholders(thresholds or Thresholds(), calendar or WorkCalendar())
    return d.definition.format_map(values)
