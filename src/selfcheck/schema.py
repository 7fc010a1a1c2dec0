"""Dataset: the ten input datasets of the data contract, their columns and types.

This module is the single description of the contract that ingest, the sample
generator and the metrics share. Column names are the canonical English names;
``zh`` is the Chinese header the ingest also accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["str", "datetime", "date", "bool", "int", "number", "enum"]


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    zh: str
    type: ColumnType
    required: bool = False
    enum: tuple[str, ...] = ()
    min_value: float | None = None  # lower bound for numbers (inclusive unless min_exclusive)
    unique: bool = False
    unit: str | None = None  # durations: "s" (seconds) or "h" (hours); time-style values accepted
    min_exclusive: bool = False  # the value must be greater than min_value (training hours > 0)
    max_value: float | None = None  # inclusive upper bound: the contract's, or a PLAUSIBLE one
    on_scale: bool = False  # a survey score: 1 ≤ value ≤ the survey scale (thresholds.survey_scale)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    zh: str
    anchor: str  # the column whose timestamp places a record in a period
    columns: tuple[ColumnSpec, ...]
    snapshot: bool = False  # staff: a snapshot at period end, not filtered by period
    # (later, earlier) column pairs: a row whose later value is before its earlier one is bad
    # (an end before its start; for counts, nodes_done above nodes_total)
    order: tuple[tuple[str, str], ...] = ()

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def id_column(self) -> str | None:
        for c in self.columns:
            if c.unique:
                return c.name
        return None


SURVEY_SCALE = 5  # default of thresholds.survey_scale: survey scores are 1..5


@dataclass(frozen=True)
class Plausible:
    """Upper bounds where the contract states none: they catch the impossible, not the unusual.

    Generous on purpose: real calls last over an hour, queues reach a quarter of an
    hour, a ticket passes a dozen hands. A value above one of these is a unit or
    export error (milliseconds in a seconds column, minutes in the hours column, a
    phone number in a count), never a record to average.
    """

    ring_seconds: float = 3_600  # ringing for an hour: the line never rings that long
    queue_seconds: float = 86_400  # a day in the queue
    talk_seconds: float = 86_400  # a day on the phone
    training_hours: float = 24  # one attendance (one sitting) longer than a day
    handoffs: int = 1_000  # processing nodes a ticket passed
    nodes: int = 1_000  # key process nodes of a visit
    languages: int = 100  # service languages of one agent
    # timestamps of two systems may disagree by a little clock skew, and an export may give
    # one column to the minute only: an end up to this many seconds before its start is the
    # same instant (the end is taken as the start), beyond it the row is bad
    order_tolerance_seconds: float = 60


PLAUSIBLE = Plausible()
_P = PLAUSIBLE


def _c(name: str, zh: str, type: ColumnType, req: bool = False, **kw) -> ColumnSpec:
    return ColumnSpec(name, zh, type, req, **kw)


CHANNELS = ("phone", "online", "app", "wechat", "email", "onsite", "social", "other")
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
LEVELS = ("L1", "L2", "L3")
LEVEL_ZH = {"L1": "常规", "L2": "复杂", "L3": "重大"}
CALL_OUTCOMES = ("answered", "abandoned", "ivr", "busy")
CALL_OUTCOME_ZH = {
    "answered": "人工接听",
    "abandoned": "排队放弃",
    "ivr": "自助服务结束",
    "busy": "忙音/未接入",
}
VISIT_KINDS = ("emergency", "regular")
VISIT_KIND_ZH = {"emergency": "紧急", "regular": "常规"}
AREAS = ("core", "suburb")
AREA_ZH = {"core": "城市核心区", "suburb": "郊区/偏远"}
ROLES = ("frontline", "support", "manager")
ROLE_ZH = {"frontline": "一线", "support": "后台支撑", "manager": "管理"}
QA_SOURCES = ("call", "chat", "ticket", "visit")
SEVERITIES = ("major", "minor")
COMPLAINT_TYPES = ("产品质量", "服务流程", "收费争议", "人员服务", "其他")

DATASETS: dict[str, DatasetSpec] = {
    d.name: d
    for d in (
        DatasetSpec(
            "tickets",
            "工单",
            "created_at",
            (
                _c("ticket_id", "工单编号", "str", True, unique=True),
                _c("created_at", "受理时间", "datetime", True),
                _c("channel", "受理渠道", "enum", True, enum=CHANNELS),
                _c("level", "处理级别", "enum", True, enum=LEVELS),
                _c("category", "问题类别", "str"),
                _c("customer_id", "客户编号", "str"),
                _c("segment", "客户类型", "str"),
                _c("first_response_at", "首次响应时间", "datetime"),
                _c("resolved_at", "解决时间", "datetime"),
                _c("plan_at", "方案时间", "datetime"),
                _c("closed_at", "关闭时间", "datetime"),
                _c("handoffs", "流转环节数", "int", min_value=0, max_value=_P.handoffs),
                _c("reopened", "是否重开", "bool"),
                _c("escalated", "是否升级", "bool"),
                _c("resolved_by_bot", "智能客服解决", "bool"),
                _c("transferred_to_human", "转人工", "bool"),
                _c("agent_id", "处理人", "str"),
                _c("team", "班组", "str"),
                _c("archived_at", "归档时间", "datetime"),
            ),
            order=(
                ("first_response_at", "created_at"),
                ("resolved_at", "created_at"),
                ("plan_at", "created_at"),
                ("closed_at", "created_at"),
                ("archived_at", "created_at"),
            ),
        ),
        DatasetSpec(
            "calls",
            "电话",
            "arrived_at",
            (
                _c("call_id", "通话编号", "str", True, unique=True),
                _c("arrived_at", "来电时间", "datetime", True),
                _c("outcome", "结果", "enum", True, enum=CALL_OUTCOMES),
                _c(
                    "ring_seconds",
                    "振铃时长",
                    "number",
                    min_value=0,
                    unit="s",
                    max_value=_P.ring_seconds,
                ),
                _c(
                    "queue_seconds",
                    "排队时长",
                    "number",
                    min_value=0,
                    unit="s",
                    max_value=_P.queue_seconds,
                ),
                _c(
                    "talk_seconds",
                    "通话时长",
                    "number",
                    min_value=0,
                    unit="s",
                    max_value=_P.talk_seconds,
                ),
                _c("agent_id", "坐席", "str"),
                _c("customer_id", "客户编号", "str"),
            ),
        ),
        DatasetSpec(
            "chats",
            "在线咨询",
            "started_at",
            (
                _c("session_id", "会话编号", "str", True, unique=True),
                _c("started_at", "发起时间", "datetime", True),
                _c("channel", "渠道", "str"),
                _c("first_reply_at", "首次人工回复时间", "datetime"),
                _c("bot_only", "机器人解决", "bool"),
                _c("off_hours_notice", "非工作时间标注", "bool"),
                _c("ended_at", "结束时间", "datetime"),
                _c("agent_id", "坐席", "str"),
                _c("customer_id", "客户编号", "str"),
            ),
            order=(("first_reply_at", "started_at"), ("ended_at", "started_at")),
        ),
        DatasetSpec(
            "visits",
            "现场服务",
            "reported_at",
            (
                _c("visit_id", "服务单号", "str", True, unique=True),
                _c("reported_at", "接报时间", "datetime", True),
                _c("kind", "服务类型", "enum", True, enum=VISIT_KINDS),
                _c("area", "区域", "enum", True, enum=AREAS),
                _c("confirmed_at", "预约确认时间", "datetime"),
                _c("arrived_at", "到场时间", "datetime"),
                _c("eta_notified", "已告知预计到达", "bool"),
                _c("compensated", "已补偿", "bool"),
                _c("nodes_total", "关键节点数", "int", min_value=0, max_value=_P.nodes),
                _c("nodes_done", "完成节点数", "int", min_value=0, max_value=_P.nodes),
                _c("completed_at", "完成时间", "datetime"),
                _c("accepted", "验收签署", "bool"),
                _c("dissatisfied", "效果不满意", "bool"),
                _c("extra_fee_complaint", "额外收费投诉", "bool"),
                _c("archived_at", "归档时间", "datetime"),
                _c("ticket_id", "工单编号", "str"),
            ),
            order=(
                ("confirmed_at", "reported_at"),
                ("arrived_at", "reported_at"),
                ("completed_at", "reported_at"),
                ("completed_at", "arrived_at"),
                ("archived_at", "reported_at"),
                ("nodes_total", "nodes_done"),
            ),
        ),
        DatasetSpec(
            "complaints",
            "投诉",
            "received_at",
            (
                _c("complaint_id", "投诉编号", "str", True, unique=True),
                _c("received_at", "受理时间", "datetime", True),
                _c("type", "投诉类型", "str", True),
                _c("customer_id", "客户编号", "str"),
                _c("segment", "客户类型", "str"),
                _c("channel", "渠道", "str"),
                _c("resolved_at", "办结时间", "datetime"),
                _c("escalated", "是否升级", "bool"),
                _c("feedback_given", "已反馈改进", "bool"),
                _c("satisfied", "处理满意", "bool"),
                _c("ticket_id", "工单编号", "str"),
            ),
            order=(("resolved_at", "received_at"),),
        ),
        DatasetSpec(
            "surveys",
            "满意度调查",
            "answered_at",
            (
                _c("response_id", "问卷编号", "str", True, unique=True),
                _c("answered_at", "填写时间", "datetime", True),
                _c("overall", "总体满意度", "number", True, on_scale=True),
                _c("attitude", "服务态度", "number", on_scale=True),
                _c("speed", "响应速度", "number", on_scale=True),
                _c("expertise", "专业能力", "number", on_scale=True),
                _c("resolution", "问题解决", "number", on_scale=True),
                _c("value", "性价比感知", "number", on_scale=True),
                _c("nps", "推荐意愿", "int", min_value=0, max_value=10),
                _c("customer_id", "客户编号", "str"),
                _c("segment", "客户类型", "str"),
                _c("channel", "渠道", "str"),
                _c("ticket_id", "工单编号", "str"),
                _c("comment", "意见建议", "str"),
            ),
        ),
        DatasetSpec(
            "staff",
            "人员",
            "hired_on",
            (
                _c("agent_id", "工号", "str", True, unique=True),
                _c("role", "岗位类别", "enum", True, enum=ROLES),
                _c("team", "班组", "str"),
                _c("hired_on", "入职日期", "date"),
                _c("left_on", "离职日期", "date"),
                _c("certified", "持证上岗", "bool"),
                _c("languages", "服务语种数", "int", min_value=0, max_value=_P.languages),
            ),
            order=(("left_on", "hired_on"),),
            snapshot=True,
        ),
        DatasetSpec(
            "training",
            "培训",
            "date",
            (
                _c("session_id", "培训场次", "str", True),
                _c("date", "日期", "date", True),
                _c("topic", "主题", "str", True),
                _c(
                    "hours",
                    "学时",
                    "number",
                    True,
                    min_value=0,
                    min_exclusive=True,
                    max_value=_P.training_hours,
                    unit="h",
                ),
                _c("agent_id", "工号", "str", True),
                _c("passed", "考核通过", "bool"),
                _c("score", "考核成绩", "number"),
            ),
        ),
        DatasetSpec(
            "qa_reviews",
            "质检",
            "reviewed_at",
            (
                _c("review_id", "质检编号", "str", True, unique=True),
                _c("reviewed_at", "质检时间", "datetime", True),
                _c("agent_id", "工号", "str", True),
                _c("source", "来源", "enum", enum=QA_SOURCES),
                _c("professionalism", "专业性", "number", True, min_value=0, max_value=100),
                _c("compliance", "规范性", "number", True, min_value=0, max_value=100),
                _c("experience", "客户体验", "number", True, min_value=0, max_value=100),
                _c("critical_error", "致命差错", "bool"),
            ),
        ),
        DatasetSpec(
            "incidents",
            "系统故障",
            "started_at",
            (
                _c("incident_id", "故障编号", "str", True, unique=True),
                _c("started_at", "发生时间", "datetime", True),
                _c("resolved_at", "恢复时间", "datetime"),
                _c("system", "系统", "str"),
                _c("severity", "级别", "enum", enum=SEVERITIES),
                _c("service_interrupted", "服务中断", "bool"),
            ),
            order=(("resolved_at", "started_at"),),
        ),
    )
}

DATASET_NAMES: tuple[str, ...] = tuple(DATASETS)
