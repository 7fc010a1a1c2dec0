"""Configuration: the parameters file of a period and the standards file, validated once.

Notebooks never parse YAML: they receive the parameters file's path as a literal
from Papermill and call :func:`load_config`, which returns a frozen
:class:`Config`. Unknown keys and bad values are errors naming the key and file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, time
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from selfcheck.calendar import WorkCalendar, YearOverride
from selfcheck.errors import ParamsError
from selfcheck.metrics.base import Target
from selfcheck.period import PER_YEAR, Period, PeriodKind
from selfcheck.schema import DATASETS, DatasetSpec
from selfcheck.thresholds import Thresholds


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class YearOverrideModel(_Model):
    holidays: list[date] = Field(default_factory=list, description="法定节假日（放假日期）")
    workdays: list[date] = Field(default_factory=list, description="调休上班日")


class CalendarModel(_Model):
    work_start: time = Field(time(9, 0), description="工作时间开始")
    work_end: time = Field(time(18, 0), description="工作时间结束")
    years: dict[int, YearOverrideModel] = Field(
        default_factory=dict, description="日历包未覆盖年份的节假日与调休安排"
    )


# -- column mapping (per dataset: header renames and value maps) ------------------------


def _source_text(v: Any) -> Any:
    """A header or value as written in the export; YAML may have read it as a number or bool."""
    if isinstance(v, bool):
        raise ValueError(
            f"YAML 把 {v!r} 读成了布尔值，请给它加引号，例如 'Y': answered、'yes': answered"
            " (quote keys such as Y/yes/no/true in YAML)"
        )
    if isinstance(v, int | float):
        return str(v)
    return v


def _target_text(v: Any) -> Any:
    return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


SourceText = Annotated[str, BeforeValidator(_source_text)]


def _value_target(col) -> Any:
    if col.type == "enum":
        return Literal[col.enum]  # type: ignore[valid-type]
    if col.type == "bool":
        return bool | None
    return Annotated[str | None, BeforeValidator(_target_text)]


def _dataset_columns_model(spec: DatasetSpec) -> type[BaseModel]:
    names = Literal[spec.names]  # type: ignore[valid-type]
    values = create_model(  # type: ignore[call-overload]
        f"ValuesModel_{spec.name}",
        __base__=_Model,
        **{
            c.name: (dict[SourceText, _value_target(c)], Field(default_factory=dict))
            for c in spec.columns
        },
    )
    return create_model(  # type: ignore[call-overload]
        f"ColumnsModel_{spec.name}",
        __base__=_DatasetColumnsBase,
        __cls_kwargs__={"spec": spec},
        rename=(
            dict[SourceText, names],
            Field(default_factory=dict, description="文件中的列名 → 标准列名"),
        ),
        values=(values, Field(default_factory=values, description="列 → {文件中的取值: 标准取值}")),
        combine=(
            dict[str, list[SourceText]],
            Field(
                default_factory=dict,
                description="时间列 → [日期列名, 时间列名]：两列合并为一个时间戳",
            ),
        ),
    )


def header_text(text: str) -> str:
    """A header as the ingest compares it (NFKC, trimmed, case-folded: ingest.columns)."""
    return unicodedata.normalize("NFKC", str(text)).strip().casefold()


class _DatasetColumnsBase(_Model):
    """``columns.<dataset>``: checks that span its keys (``combine`` against ``rename``)."""

    _spec: ClassVar[DatasetSpec | None] = None

    def __init_subclass__(cls, spec: DatasetSpec | None = None, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        cls._spec = spec

    @model_validator(mode="after")
    def _combine(self) -> Any:
        spec = type(self)._spec
        combine: dict[str, list[str]] = getattr(self, "combine", {})
        rename: dict[str, str] = getattr(self, "rename", {})
        if spec is None or not combine:
            return self
        times = [c.name for c in spec.columns if c.type == "datetime"]
        renamed = {header_text(k) for k in rename}
        seen: dict[str, str] = {}
        for target, headers in combine.items():
            where = f"combine.{target}"
            if target not in times:
                raise ValueError(
                    f"{where}: {target} 不是 {spec.name} 的时间列，可合并的列："
                    f"{'、'.join(times) or '（无）'} (the target must be a datetime column)"
                )
            if len(headers) != 2 or header_text(headers[0]) == header_text(headers[1]):
                raise ValueError(
                    f"{where}: 须恰好列出两个不同的列名：[日期列, 时间列]，例如"
                    f" {target}: [通话日期, 通话时间] (exactly two headers: the date, then the time)"
                )
            if target in rename.values():
                raise ValueError(
                    f"{where}: {target} 已是 rename 的目标列，二者只能选一 "
                    "(a column is either renamed or combined, not both)"
                )
            for h in headers:
                key = header_text(h)
                if key in renamed:
                    raise ValueError(
                        f"{where}: 列名 {h!r} 已在 rename 中映射 (the header is also renamed)"
                    )
                if key in seen:
                    raise ValueError(
                        f"{where}: 列名 {h!r} 已用于 combine.{seen[key]}"
                        " (a header can be combined only once)"
                    )
                seen[key] = target
        return self


DATASET_COLUMNS_MODELS: dict[str, type[BaseModel]] = {
    name: _dataset_columns_model(spec) for name, spec in DATASETS.items()
}
ColumnsModel: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "ColumnsModel",
    __base__=_Model,
    **{name: (model | None, None) for name, model in DATASET_COLUMNS_MODELS.items()},
)


def _period_text(v: Any) -> Any:
    """``period: 2026`` is read by YAML as a number: the year 2026."""
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


def _dataset_ids(names: list[str]) -> None:
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        known = "、".join(f"{n}（{s.zh}）" for n, s in DATASETS.items())
        raise ValueError(
            f"未知的数据集 {'、'.join(repr(n) for n in unknown)}；可用的数据集：{known}"
            f" (unknown dataset id; use the ids of docs/data-contract.md)"
        )


class ScopeModel(_Model):
    """``scope:``: what the report covers. A dataset absent from the data folder is left out
    (“未提供该类数据，本次不纳入”) unless ``expected`` lists it: then it is a gap."""

    not_applicable: dict[str, str] = Field(
        default_factory=dict,
        description="不适用的数据集 → 原因，例如 visits: 本中心不设现场服务（报告中不纳入）",
    )
    expected: list[str] = Field(
        default_factory=list,
        description="必须提供的数据集，例如 [calls, tickets]：缺少时列为存在的问题",
    )

    @field_validator("not_applicable")
    @classmethod
    def _reasons(cls, v: dict[str, str]) -> dict[str, str]:
        _dataset_ids(list(v))
        empty = [k for k, reason in v.items() if not str(reason).strip()]
        if empty:
            raise ValueError(
                f"{'、'.join(empty)} 须写明不适用的原因，例如"
                " visits: 本中心不设现场服务 (give the reason)"
            )
        return {k: str(reason).strip() for k, reason in v.items()}

    @field_validator("expected")
    @classmethod
    def _expected(cls, v: list[str]) -> list[str]:
        _dataset_ids(v)
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _both(self) -> Any:
        both = [n for n in self.expected if n in self.not_applicable]
        if both:
            raise ValueError(
                f"{'、'.join(both)} 既列为不适用（not_applicable）又列为必须提供（expected），"
                "二者只能选一 (a dataset is either not applicable or expected)"
            )
        return self


PART_KINDS: dict[str, PeriodKind | None] = {
    "period": None,
    "quarters": "quarter",
    "months": "month",
}


class DataFromModel(_Model):
    """``data_from``: where the rows of a longer period come from (docs/ingest.md)."""

    parts: Literal["period", "quarters", "months"] = Field(
        "period",
        description="period：一个目录存放整个期间（默认）；quarters / months：合并各季度 / 各月的目录",
    )
    allow_partial: bool = Field(
        False,
        description="允许部分期间：缺少的季度 / 月份不报错，在附录与数据质量记录中说明（默认 false）",
    )

    @property
    def kind(self) -> PeriodKind | None:
        """The kind of the part folders (None: one folder for the whole period)."""
        return PART_KINDS[self.parts]


def _data_from_text(v: Any) -> Any:
    """``data_from: quarters`` is short for ``data_from: {parts: quarters}``."""
    return {"parts": v} if isinstance(v, str) else v


GROUP_FOLDER = "group"  # the group report's folder beside the branches' (outputs/<period>/group)
BRANCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


class BranchModel(_Model):
    """One entry of ``branches:``: a branch (or regional centre) of a group, with its own
    data folder and, optionally, its own standards and analyst files."""

    id: Annotated[str, BeforeValidator(_period_text)] = Field(
        description="分支机构编号：字母、数字、- 或 _（用于输出目录 outputs/<期间>/<编号>）"
    )
    name: str = Field(min_length=1, description="分支机构名称（报告中使用）")
    data_dir: str = Field(description="该机构的数据目录，{period} 替换为期间")
    standards: str | None = Field(None, description="该机构的服务标准文件；缺省用集团的")
    analyst_dir: str | None = Field(
        None,
        description="该机构的分析人员文件（整改措施、事实数据、补充文字、自查清单）所在目录；"
        "缺省为参数文件旁以机构编号命名的目录",
    )
    reporting_unit: str | None = Field(None, description="该机构报告封面的编制单位；缺省为机构名称")

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not BRANCH_ID.match(v) or v.casefold() == GROUP_FOLDER:
            raise ValueError(
                f"分支机构编号 {v!r} 不可用：须为 1–32 个字母、数字、- 或 _，以字母或数字开头，"
                f"且不能是 {GROUP_FOLDER}（集团报告的目录） (a branch id is letters, digits, - or _)"
            )
        return v

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, v: str) -> str:
        if "{period}" not in v:
            raise ValueError(
                f"data_dir 须含 {{period}}，例如 ../data/b01/{{period}}，当前为 {v!r}"
                " (a branch's data_dir needs {period})"
            )
        return v


class ParamsModel(_Model):
    period: Annotated[str, BeforeValidator(_period_text)] = Field(
        description="报告期间：2026（年度）、2026H1（半年）、2026Q3（季度）或 2026-07（月）"
    )
    organisation: str = Field(min_length=1, description="单位名称（封面）")
    reporting_unit: str = Field(min_length=1, description="编制单位（封面）")
    report_date: date | None = Field(None, description="报告日期；缺省为期间结束后的第一天")
    confidentiality: str = Field("内部资料　注意保密", description="密级说明（封面）")
    data_dir: str = Field("../data/{period}", description="数据目录，{period} 替换为期间")
    data_from: Annotated[DataFromModel, BeforeValidator(_data_from_text)] = Field(
        default_factory=lambda: DataFromModel(),
        description="较长期间（年度、半年）的数据来源：period 为一个目录存放整个期间（默认）；"
        "quarters / months 为读取各季度 / 各月的数据目录（data_dir 中的 {period} 逐期替换）并合并，"
        "见 docs/ingest.md",
    )
    standards: str = Field("standards.yaml", description="服务标准（目标值）文件")
    checklist: str | None = Field(
        None, description="自查清单定义文件（领域与检查项）；缺省使用随软件提供的默认清单"
    )
    template: str | None = Field(None, description="单位自有 Word 模板 (.docx)")
    layout: Literal["libreoffice", "off"] = Field(
        "libreoffice",
        description="目录页码：libreoffice 用 LibreOffice 排版一次并填入页码；off 不排版（页码留待 Word 更新，不出 PDF）",
    )
    pdf: bool = Field(True, description="排版时在 .docx 旁另存同名 PDF（需 LibreOffice）")

    @field_validator("layout", mode="before")
    @classmethod
    def _layout_off(cls, v: Any) -> Any:
        """``layout: off`` unquoted is YAML's false: it means off."""
        return "off" if v is False else v

    output_dir: str = Field("../outputs/{period}", description="输出目录")
    scope: ScopeModel = Field(
        default_factory=ScopeModel,
        description="自查范围：不适用的数据集（及原因）、必须提供的数据集，见 README",
    )
    timezone: str = Field("Asia/Shanghai", description="时间戳所用时区（本地挂钟时间）")
    thresholds: Thresholds = Field(default_factory=Thresholds)
    calendar: CalendarModel = Field(default_factory=CalendarModel)
    columns: ColumnsModel = Field(  # type: ignore[valid-type]
        default_factory=ColumnsModel,
        description="各数据集的列名映射（rename）与取值映射（values），见 docs/ingest.md",
    )
    max_bad_share: float = Field(
        0.05, ge=0, le=1, description="数据集问题行占比上限，超过即停止（默认 0.05 即 5%）"
    )
    min_bad_rows: int = Field(
        3, ge=1, description="问题行至少达到该行数才会因占比超限而停止（小文件的下限，默认 3）"
    )
    max_outside_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="有效记录中期间外记录的占比上限，超过即停止（数据目录放错期间；默认 0.5，1 为不检查）",
    )
    branches: list[BranchModel] = Field(
        default_factory=list,
        description="集团的分支机构：每个机构一份报告（outputs/<期间>/<编号>），另出集团汇总报告"
        "（outputs/<期间>/group），见 docs/group.md",
    )
    cluster: str | None = Field(
        None,
        description="Dask 调度器地址（如 tcp://10.0.0.5:8786）：各分支机构的运行作为任务交给该集群；"
        "缺省在本机并行",
    )

    @field_validator("branches")
    @classmethod
    def _branches(cls, v: list[BranchModel]) -> list[BranchModel]:
        for what, key in (("编号", lambda b: b.id.casefold()), ("名称", lambda b: b.name)):
            seen: set[str] = set()
            repeated = [b for b in v if key(b) in seen or seen.add(key(b))]  # type: ignore[func-returns-value]
            if repeated:
                raise ValueError(
                    f"分支机构{what}重复：{'、'.join(b.id if what == '编号' else b.name for b in repeated)}"
                    f"（每个机构的{what}须唯一） (branch {'ids' if what == '编号' else 'names'} must be unique)"
                )
        return v

    @field_validator("period")
    @classmethod
    def _period(cls, v: str) -> str:
        try:
            return str(Period.parse(v))
        except ParamsError as e:
            raise ValueError(str(e)) from None

    @model_validator(mode="after")
    def _data_parts(self) -> Any:
        kind = self.data_from.kind
        if kind is None:
            return self
        period = Period.parse(self.period)
        if period.per_year > PER_YEAR[kind]:
            raise ValueError(
                f"data_from.parts: {self.data_from.parts} 比报告期间 {period}（{period.kind_zh}）"
                f"更长，不能由它组成；可用 period 或更短的期间 (the parts must not be longer than"
                f" the period)"
            )
        if "{period}" not in self.data_dir:
            raise ValueError(
                f"data_from.parts: {self.data_from.parts} 要求 data_dir 含 {{period}}，"
                f"以便逐期替换为各部分的目录（如 ../data/{{period}}），当前为 {self.data_dir!r}"
                " (data_dir needs {period} to name each part's folder)"
            )
        return self


class StandardsModel(_Model):
    targets: dict[str, str] = Field(description="指标编号 → 目标，例如 '>= 95%'")
    targets_by_kind: dict[PeriodKind, dict[str, str]] = Field(
        default_factory=dict,
        description="按期间类型（year 年度、half 半年、quarter 季度、month 月）另定的目标；"
        "未列出的指标沿用 targets",
    )


@dataclass(frozen=True)
class Standards:
    """Targets by metric id (values in the metric's own unit; rates as fractions).

    ``targets`` are the targets of the period kind the standards were loaded for (the
    file's ``targets`` with its ``targets_by_kind`` entries of that kind over them);
    ``by_kind`` keeps every kind's own entries.
    """

    path: Path
    targets: MappingProxyType[str, Target]
    kind: PeriodKind | None = None
    base: MappingProxyType[str, Target] | None = None  # the file's targets (None: targets)
    by_kind: MappingProxyType[str, MappingProxyType[str, Target]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def for_kind(self, kind: PeriodKind) -> Standards:
        """The same file's targets for a period of ``kind``."""
        base = self.targets if self.base is None else self.base
        merged = {**base, **self.by_kind.get(kind, {})}
        return Standards(self.path, MappingProxyType(merged), kind, base, self.by_kind)

    def target(self, metric_id: str) -> Target | None:
        hit = self.targets.get(metric_id)
        if hit is None and ":" in metric_id:
            return None  # breakdown keys carry no target of their own
        return hit


@dataclass(frozen=True)
class Config:
    """Everything a run needs to know, resolved and validated."""

    params_path: Path
    params: ParamsModel  # of a branch: the group's, with the branch's folders and unit
    period: Period
    standards: Standards
    calendar: WorkCalendar
    # a group (``branches:``): the branch this configuration is for; None for the group's
    # own consolidated report (or an organisation without branches)
    branch: BranchModel | None = None
    branches: tuple[BranchModel, ...] = ()  # every branch of the group (empty: no group)

    @property
    def is_group(self) -> bool:
        """The group's consolidated report (pooled records of every branch)."""
        return bool(self.branches) and self.branch is None

    @property
    def unit_name(self) -> str:
        """Who the report is about: the branch's name, else the reporting unit."""
        return self.branch.name if self.branch is not None else self.params.reporting_unit

    @property
    def history_path(self) -> Path:
        """The metrics history store of this organisation (a branch, the group, or the one
        organisation): beside the period folders, one file each."""
        from selfcheck.metrics.history import HISTORY_FILE

        if self.branch is not None:
            return self.output_root.parent / f"history-{self.branch.id}.duckdb"
        if self.branches:
            return self.output_root.parent / f"history-{GROUP_FOLDER}.duckdb"
        return self.output_root / HISTORY_FILE

    @property
    def analyst_dir(self) -> Path:
        """Where the analyst's files of the period lie (measures, facts, texts, checklist):
        beside the parameters file; a branch's in its ``analyst_dir`` (by default the folder
        named after its id beside the parameters file)."""
        if self.branch is None:
            return self.params_path.parent
        text = self.branch.analyst_dir or self.branch.id
        return self._resolve(text, self.period)

    def for_branch(self, branch_id: str) -> Config:
        """The configuration of one branch of this group (:func:`load_config` with ``branch``)."""
        return load_config(self.params_path, branch=branch_id)

    @property
    def thresholds(self) -> Thresholds:
        return self.params.thresholds

    def data_dir(self, period: Period | None = None) -> Path:
        return self._resolve(self.params.data_dir, period or self.period)

    @property
    def output_dir(self) -> Path:
        return self._resolve(self.params.output_dir, self.period)

    @property
    def output_root(self) -> Path:
        """The folder that holds every period's outputs (history lives here); of a group,
        the period's folder holding the branches' folders and ``group``."""
        return self._resolve(self.params.output_dir, self.period).parent

    @property
    def checklist_path(self) -> Path | None:
        """The organisation's checklist definition (None: the packaged default)."""
        if self.params.checklist is None:
            return None
        return self._resolve(self.params.checklist, self.period)

    @property
    def template(self) -> Path | None:
        if self.params.template is None:
            return None
        return self._resolve(self.params.template, self.period)

    @property
    def report_date(self) -> date:
        return self.params.report_date or self.period.end.date()

    def _resolve(self, text: str, period: Period) -> Path:
        p = Path(text.replace("{period}", str(period))).expanduser()
        if not p.is_absolute():
            p = self.params_path.parent / p
        return p.resolve()


# -- loading --------------------------------------------------------------------------


def load_config(params_path: str | Path, branch: str | None = None) -> Config:
    """Read, validate and resolve a parameters file (and the standards file it names).

    ``branch``: of a group's parameters file (``branches:``), the configuration of that
    branch — the group's parameters with the branch's data folder, output folder
    (``<output_dir>/<id>``), standards, analyst files and name; without it, of a group,
    the consolidated report's (``<output_dir>/group``)."""
    path = Path(params_path).expanduser().resolve()
    return _load_config_cached(path, _mtime(path), branch or None)


def _resolved(text: str, base: Path) -> str:
    p = Path(text).expanduser()
    return (p if p.is_absolute() else base / p).as_posix()


@lru_cache(maxsize=64)
def _load_config_cached(path: Path, _stamp: float, branch_id: str | None = None) -> Config:
    raw = _read_yaml(path, what="参数文件")
    params = _validate(ParamsModel, raw, path)
    period = Period.parse(params.period)
    branches = tuple(params.branches)
    branch = None
    if branch_id is not None:
        branch = next((b for b in branches if b.id == branch_id), None)
        if branch is None:
            known = "、".join(f"{b.id}（{b.name}）" for b in branches) or "（未列出任何分支机构）"
            raise ParamsError(
                f"{path}: 没有编号为 {branch_id!r} 的分支机构；参数文件 branches 中的机构：{known}"
                f" (no branch {branch_id!r} in this parameters file)"
            )
    if branches:
        # the branch's (or the group's) own folders; paths resolved against this file, so
        # the configuration is what a parameters file of that branch alone would give
        base = path.parent
        update: dict[str, Any] = {
            "output_dir": f"{_resolved(params.output_dir, base)}/{branch.id if branch else GROUP_FOLDER}"
        }
        if branch is not None:
            update["data_dir"] = _resolved(branch.data_dir, base)
            update["reporting_unit"] = branch.reporting_unit or branch.name
            if branch.standards is not None:
                update["standards"] = _resolved(branch.standards, base)
        params = params.model_copy(update=update)
    std_path = Path(params.standards.replace("{period}", str(period))).expanduser()
    if not std_path.is_absolute():
        std_path = (path.parent / std_path).resolve()
    standards = load_standards(std_path, period.kind)
    calendar = WorkCalendar(
        work_start=params.calendar.work_start,
        work_end=params.calendar.work_end,
        overrides=MappingProxyType(
            {
                year: YearOverride(frozenset(o.holidays), frozenset(o.workdays))
                for year, o in params.calendar.years.items()
            }
        ),
    )
    for year in period.years:  # a year the calendar does not know stops here, not mid-run
        calendar.check_year(year, where=f"{path}: calendar.years")
    return Config(path, params, period, standards, calendar, branch, branches)


def load_standards(path: Path, kind: PeriodKind | None = None) -> Standards:
    """The standards file's targets; with ``kind``, those of a period of that kind
    (``targets_by_kind.<kind>`` over ``targets``)."""
    raw = _read_yaml(path, what="服务标准文件")
    model = _validate(StandardsModel, raw, path)
    base = _parse_targets(model.targets, path, "targets")
    by_kind = {
        k: MappingProxyType(_parse_targets(entries, path, f"targets_by_kind.{k}"))
        for k, entries in model.targets_by_kind.items()
    }
    standards = Standards(path, MappingProxyType(base), None, None, MappingProxyType(by_kind))
    return standards if kind is None else standards.for_kind(kind)


def _parse_targets(entries: dict[str, str], path: Path, where: str) -> dict[str, Target]:
    from selfcheck.metrics.catalogue import lookup

    targets: dict[str, Target] = {}
    for metric_id, text in entries.items():
        try:
            definition = lookup(metric_id)
        except KeyError:
            raise ParamsError(
                f"{path}: {where}.{metric_id}: 未知的指标编号 (unknown metric id)。"
                f"请对照 docs/metrics.md 或 metrics.csv 中的 metric_id 修改。"
            ) from None
        targets[metric_id] = parse_target(
            text, definition.unit, where=f"{path}: {where}.{metric_id}"
        )
    return targets


_TARGET_RE = re.compile(r"^\s*(>=|<=|==|≥|≤|=)\s*(-?\d+(?:\.\d+)?)\s*(%?)\s*([^\d\s%]*)\s*$")
_UNIT_WORDS = {
    "seconds": {"s", "秒"},
    "minutes": {"min", "分钟"},
    "hours": {"h", "小时"},
    "workdays": {"工作日", "个工作日", "d"},
    "days": {"d", "天"},
    "score": {"分"},
    "years": {"年"},
}


def parse_target(text: Any, unit: str, *, where: str) -> Target:
    """Parse ``">= 95%"``, ``"≤ 30 s"``, ``"= 0"`` into a :class:`Target`."""
    m = _TARGET_RE.match(str(text))
    if not m:
        raise ParamsError(
            f"{where}: 目标 {text!r} 无法识别。写法示例：'>= 95%'、'<= 30 s'、'= 0' "
            f"(comparator >=, <= or ==, then a number)."
        )
    comp, number, percent, word = m.groups()
    comparator = {"≥": ">=", "≤": "<=", "=": "=="}.get(comp, comp)
    value = float(number)
    if unit == "rate":
        if not percent:
            raise ParamsError(
                f"{where}: 比率类指标的目标须写成百分数，例如 '>= 95%'（got {text!r}）"
            )
        value /= 100.0
    elif percent:
        raise ParamsError(f"{where}: 该指标不是比率，目标不能带 %（got {text!r}）")
    if word and word not in _UNIT_WORDS.get(unit, set()):
        allowed = "、".join(sorted(_UNIT_WORDS.get(unit, set()))) or "无单位"
        raise ParamsError(f"{where}: 单位 {word!r} 与指标单位不符（可用：{allowed}）")
    return Target(comparator, value)  # type: ignore[arg-type]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        raise ParamsError(f"找不到参数文件 (parameters file not found): {path}") from None


def _read_yaml(path: Path, *, what: str) -> dict:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ParamsError(f"找不到{what} (file not found): {path}") from None
    except UnicodeDecodeError:
        raise ParamsError(f"{path}: {what}须保存为 UTF-8 编码") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" 第 {mark.line + 1} 行" if mark is not None else ""
        hint = ""
        lines = text.splitlines()
        bad = lines[mark.line] if mark is not None and mark.line < len(lines) else ""
        if "{period}" in bad and bad.count("{") > bad.count("{period}"):  # inside {...}
            hint = (
                "。花括号 {…} 中写 {period} 时须给值加引号（data_dir: '../data/{period}'），"
                "或把该项写成多行格式 (quote a {period} inside {...}, or use block style)"
            )
        raise ParamsError(
            f"{path}{line}: YAML 格式错误：{getattr(e, 'problem', e)}{hint}"
        ) from None
    if not isinstance(data, dict):
        raise ParamsError(f"{path}: {what}应为键值映射 (a mapping of keys to values)")
    return data


def _validate(model: type[BaseModel], raw: dict, path: Path) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            key = ".".join(str(p) for p in err["loc"]) or "(file)"
            if err["type"] == "extra_forbidden":
                msg = "未知的参数名 (unknown key)，请检查拼写"
            elif err["type"] == "missing":
                msg = "缺少必填参数 (required key missing)"
            elif err["type"] == "value_error":  # our own message, without pydantic's prefix
                msg = str(err["msg"]).removeprefix("Value error, ")
            else:
                msg = err["msg"]
            lines.append(f"  {key}: {msg}")
        raise ParamsError(f"{path}: 参数有误 (invalid parameters):\n" + "\n".join(lines)) from None
