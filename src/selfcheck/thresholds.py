"""Thresholds: the named parameters of the metric definitions (metrics.md).

Every value has the default of the metric catalogue and can be set per period in
the parameters file under ``thresholds:``. The appendix prints the values used.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlaHours(_Frozen):
    L1: float = Field(2, gt=0, description="L1 解决时限（小时）")
    L2: float = Field(24, gt=0, description="L2 解决时限（小时）")
    L3: float = Field(48, gt=0, description="L3 方案时限（小时）")


class ArrivalMinutes(_Frozen):
    emergency_core: float = Field(30, gt=0, description="紧急·城市核心区到场时限（分钟）")
    emergency_suburb: float = Field(60, gt=0, description="紧急·郊区/偏远到场时限（分钟）")
    regular_core: float = Field(120, gt=0, description="常规·城市核心区到场时限（分钟）")
    regular_suburb: float = Field(240, gt=0, description="常规·郊区/偏远到场时限（分钟）")


class Thresholds(_Frozen):
    # phone
    short_abandon_seconds: float = Field(5, ge=0, description="短时放弃：排队不足该秒数即放弃")
    service_level_seconds: float = Field(45, gt=0, description="服务水平：排队不超过该秒数接通")
    ring_limit_seconds: float = Field(6, gt=0, description="振铃时限（秒）")
    # online
    online_workday_minutes: float = Field(5, gt=0, description="工作时间在线响应时限（分钟）")
    online_offhours_minutes: float = Field(30, gt=0, description="非工作时间在线响应时限（分钟）")
    # tickets
    sla_hours: SlaHours = SlaHours()
    sla_clock: Literal["calendar", "business"] = Field(
        "calendar", description="工单时效计时方式：calendar 自然时间，business 仅计工作时间"
    )
    repeat_window_days: float = Field(7, gt=0, description="重复来访窗口（天）")
    archive_limit_hours: float = Field(24, gt=0, description="归档时限（小时）")
    # on-site
    arrival_minutes: ArrivalMinutes = ArrivalMinutes()
    confirm_limit_minutes: float = Field(30, gt=0, description="预约确认时限（分钟）")
    # complaints
    repeat_complaint_days: float = Field(30, gt=0, description="重复投诉窗口（天）")
    # surveys
    survey_scale: int = Field(5, ge=2, description="满意度量表满分")
    min_sample: int = Field(30, ge=1, description="最小样本量，不足标注“样本量不足”")
    # quality inspection
    qa_pass_score: float = Field(80, ge=0, le=100, description="质检合格分")
