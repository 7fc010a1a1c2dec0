"""The checklist definition: areas → items, owned by the organisation (a YAML file).

A default ships with the package (``default.yaml``: service process, service quality,
staff, facilities and technology, feedback and complaints). The parameters file may name
the organisation's own (``checklist: checklist.yaml``, relative to the parameters file);
``selfcheck checklist … --export-definition FILE`` writes a copy of the default to start
from. Validated once: unknown keys, duplicate ids, unknown methods or severities and
unknown metric ids are errors naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from selfcheck.errors import ParamsError

Method = Literal["资料查阅", "数据分析", "现场观察", "客户访谈", "员工访谈"]
METHODS: tuple[str, ...] = ("资料查阅", "数据分析", "现场观察", "客户访谈", "员工访谈")
ItemSeverity = Literal["严重", "较重", "一般"]
DEFAULT_NAME = "default.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ItemModel(_Model):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="编号")
    topic: str = Field(min_length=1, description="子项")
    check: str = Field(min_length=1, description="检查内容")
    methods: tuple[Method, ...] = Field(min_length=1, description="检查方法")
    evidence: str = Field(min_length=1, description="应备证据")
    severity: ItemSeverity = Field("一般", description="不符合时的严重程度")
    metrics: tuple[str, ...] = Field((), description="由哪些指标判定（可选）")

    @field_validator("methods")
    @classmethod
    def _distinct_methods(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(v)) != len(v):
            raise ValueError("检查方法重复 (a method is listed twice)")
        return v


class AreaModel(_Model):
    id: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$", description="领域编号")
    name: str = Field(min_length=1, description="领域名称")
    items: tuple[ItemModel, ...] = Field(min_length=1)


class ChecklistModel(_Model):
    areas: tuple[AreaModel, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Item:
    """One checklist item, with the area it belongs to."""

    id: str
    area_id: str
    area: str
    topic: str
    check: str
    methods: tuple[str, ...]
    evidence: str
    severity: str
    metrics: tuple[str, ...]

    @property
    def decided_by_metrics(self) -> bool:
        return bool(self.metrics)


@dataclass(frozen=True)
class Checklist:
    path: Path | None  # None: the packaged default
    areas: tuple[tuple[str, str], ...]  # (id, name) in order
    items: tuple[Item, ...]

    def item(self, item_id: str) -> Item:
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    @property
    def source(self) -> str:
        return "默认自查清单" if self.path is None else str(self.path)


def default_text() -> str:
    return resources.files("selfcheck.checklist").joinpath(DEFAULT_NAME).read_text(encoding="utf-8")


def load_checklist(path: Path | None = None) -> Checklist:
    """The checklist at ``path`` (None: the packaged default), validated."""
    import yaml

    from selfcheck.config import _read_yaml, _validate

    if path is None:
        raw = yaml.safe_load(default_text())
        where: Path | str = "默认自查清单 (default checklist)"
    else:
        if not path.is_file():
            raise ParamsError(
                f"找不到自查清单定义文件：{path}。请检查参数文件中的 checklist，"
                "或删去该项以使用默认清单。(checklist definition not found)"
            )
        raw = _read_yaml(path, what="自查清单定义文件")
        where = path
    model = _validate(ChecklistModel, raw, where)  # type: ignore[arg-type]
    return _build(model, path, where)


def _build(model: ChecklistModel, path: Path | None, where: Path | str) -> Checklist:
    from selfcheck.metrics.catalogue import lookup

    seen_areas: set[str] = set()
    seen: dict[str, str] = {}
    items: list[Item] = []
    for area in model.areas:
        if area.id in seen_areas:
            raise ParamsError(f"{where}: 领域编号 {area.id} 重复 (duplicate area id)。")
        seen_areas.add(area.id)
        for it in area.items:
            if it.id in seen:
                raise ParamsError(
                    f"{where}: 检查项编号 {it.id} 重复（领域“{seen[it.id]}”和“{area.name}”）。"
                    "每个编号在清单中只能出现一次。(duplicate item id)"
                )
            seen[it.id] = area.name
            for metric_id in it.metrics:
                try:
                    lookup(metric_id)
                except KeyError:
                    raise ParamsError(
                        f"{where}: 检查项 {it.id} 的 metrics 中 {metric_id} 不是已知的指标编号。"
                        "请对照 docs/metric-catalogue.md 修改。(unknown metric id)"
                    ) from None
            items.append(
                Item(
                    it.id, area.id, area.name, it.topic, it.check, tuple(it.methods),
                    it.evidence, it.severity, tuple(it.metrics),
                )
            )  # fmt: skip
    return Checklist(path, tuple((a.id, a.name) for a in model.areas), tuple(items))
