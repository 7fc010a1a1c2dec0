"""Analyst-written inputs of a period, beside its parameters file.

- ``<period>_measures.yaml`` (整改措施): per problem the cause, measure, owner, due
  date and status, plus problems the analyst adds. Last period's file is read
  again to report the follow-up (闭环).
- ``<period>_facts.yaml``: figures no dataset holds (number of standard
  documents, scenario coverage …), each with its source.
- ``<period>_texts.yaml``: text that replaces a generated paragraph or is added
  after it, by slot (e.g. ``response.overview``).

All three are optional; each is validated once (unknown keys are errors naming
the key and the file).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from selfcheck.config import Config, _read_yaml, _validate
from selfcheck.period import Period

MeasureStatus = Literal["未开始", "进行中", "已完成", "已延期", "已取消"]
OPEN_STATUSES = ("未开始", "进行中", "已延期")
Severity = Literal["严重", "较重", "一般"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MeasureItem(_Model):
    problem: str = Field(
        description="问题：指标编号（如 phone.service_level）或分析人员补充问题的标题"
    )
    cause: str = Field(min_length=1, description="原因分析")
    measure: str = Field(min_length=1, description="整改措施")
    owner: str = Field(min_length=1, description="责任部门/责任人")
    due: date = Field(description="完成时限")
    status: MeasureStatus = Field("未开始", description="状态")
    progress: str | None = Field(None, description="进展说明")
    carried_from: str | None = Field(None, description="由哪一期结转（new-period 自动填写）")


class AnalystProblem(_Model):
    title: str = Field(min_length=1, description="问题标题")
    description: str = Field(min_length=1, description="问题描述")
    severity: Severity = Field("一般", description="严重程度")


class MeasuresFile(_Model):
    problems: list[AnalystProblem] = Field(default_factory=list)
    measures: list[MeasureItem] = Field(default_factory=list)


class Fact(_Model):
    name: str = Field(min_length=1, description="事项")
    value: str | float | int = Field(description="数值或内容")
    unit: str = Field("", description="单位")
    source: str = Field(min_length=1, description="来源")
    area: Literal["standards", "systems", "team", "other"] = Field("standards")


class FactsFile(_Model):
    facts: list[Fact] = Field(default_factory=list)


class TextsFile(_Model):
    replace: dict[str, str] = Field(default_factory=dict, description="替换生成的段落")
    add: dict[str, list[str]] = Field(default_factory=dict, description="在段落之后补充")


def analyst_folder(source: Config | Path) -> Path:
    """The folder of the analyst's files: a configuration's ``analyst_dir`` (a branch's
    own), or the folder of a parameters file."""
    return source.analyst_dir if isinstance(source, Config) else Path(source).parent


def analyst_file(source: Config | Path, period: Period, kind: str) -> Path:
    """``<period>_<kind>.yaml`` of the analyst (``source``: a configuration, or the path of
    a parameters file: beside it)."""
    return analyst_folder(source) / f"{period}_{kind}.yaml"


def load_measures(params_path: Config | Path, period: Period) -> MeasuresFile | None:
    path = analyst_file(params_path, period, "measures")
    if not path.exists():
        return None
    return _validate(MeasuresFile, _read_yaml(path, what="整改措施文件"), path)


def load_facts(params_path: Config | Path, period: Period) -> FactsFile | None:
    path = analyst_file(params_path, period, "facts")
    if not path.exists():
        return None
    return _validate(FactsFile, _read_yaml(path, what="事实数据文件"), path)


def load_texts(params_path: Config | Path, period: Period) -> TextsFile:
    path = analyst_file(params_path, period, "texts")
    if not path.exists():
        return TextsFile()
    return _validate(TextsFile, _read_yaml(path, what="补充文字文件"), path)
