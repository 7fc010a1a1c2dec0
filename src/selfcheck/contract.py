"""The data contract as a document: ``docs/data-contract.md``, written from :mod:`selfcheck.schema`.

The page is generated so that it cannot drift from what ingest checks; a test compares
the committed page with :func:`render_markdown`. Regenerate it with::

    python -m selfcheck.contract docs/data-contract.md
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from selfcheck import schema
from selfcheck.schema import DATASETS, ColumnSpec, DatasetSpec

TYPE_ZH = {
    "str": "文本 text",
    "enum": "枚举 enum",
    "datetime": "时间 datetime",
    "date": "日期 date",
    "bool": "是/否 bool",
    "int": "整数 int",
    "number": "数值 number",
}
UNIT_ZH = {"s": "秒 seconds", "h": "小时 hours"}

INTRO = """\
# Data contract: the datasets of a period

<!-- Generated from src/selfcheck/schema.py by `python -m selfcheck.contract docs/data-contract.md`;
     do not edit by hand (tests/test_contract.py checks that this page is up to date). -->

These are the inputs selfcheck reads for a period: one file per dataset in the period's
data folder (`data_dir` of the parameters file), named `NAME.csv`, `NAME.xlsx` or
`NAME.parquet` after the dataset's canonical name. Every dataset is optional, but a run
needs at least one; a missing dataset or optional column makes the metrics that need it
"无数据" (with the reason), never a crash. A column marked **必填** must be present in a
dataset that is given, and its cells must not be empty.

Headers may be the canonical name (`call_id`), the Chinese header (`通话编号`), or any
other header through the `columns:` mapping of the parameters file. Each record belongs
to the period by its **anchor** timestamp (⚓); records outside the period are excluded
and counted. How files, encodings, headers and values are read, and what happens to a
row that breaks the contract, is in [ingest.md](ingest.md).

Ranges are inclusive unless written with `>`/`<`. A row with a value outside its range,
or with an end before its start, is excluded and counted with its line and column.
"""


def _enum_text(col: ColumnSpec) -> str:
    from selfcheck.ingest.parse import SEVERITY_ZH

    labels = {
        **schema.CHANNEL_ZH,
        **schema.LEVEL_ZH,
        **schema.CALL_OUTCOME_ZH,
        **schema.VISIT_KIND_ZH,
        **schema.AREA_ZH,
        **schema.ROLE_ZH,
        **SEVERITY_ZH,
    }
    return "、".join(f"`{v}`" + (f" {labels[v]}" if v in labels else "") for v in col.enum)


def _range_text(col: ColumnSpec) -> str:
    if col.on_scale:
        return f"1 – 满意度量表满分（参数 `thresholds.survey_scale`，默认 {schema.SURVEY_SCALE}）"
    parts = []
    if col.min_value is not None:
        parts.append(f"{'>' if col.min_exclusive else '≥'} {_num(col.min_value)}")
    if col.max_value is not None:
        parts.append(f"≤ {_num(col.max_value)}")
    return "，".join(parts)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _dataset(spec: DatasetSpec) -> list[str]:
    kind = "期末快照，不按期间筛选 (a snapshot at period end)" if spec.snapshot else ""
    lines = [
        f"## {spec.name}（{spec.zh}）",
        "",
        f"File: `{spec.name}.csv` / `.xlsx` / `.parquet`. Anchor ⚓: `{spec.anchor}`."
        + (f" {kind}." if kind else ""),
        "",
        "| column | 表头 | type | 必填 | values |",
        "|---|---|---|---|---|",
    ]
    for col in spec.columns:
        values = []
        if col.enum:
            values.append(_enum_text(col))
        if rng := _range_text(col):
            values.append(rng)
        if col.unit:
            values.append(f"单位 {UNIT_ZH[col.unit]}；也可写成 `H:MM:SS`、`2分23秒` 等时长格式")
        if col.unique:
            values.append("唯一 unique")
        name = f"`{col.name}`" + (" ⚓" if col.name == spec.anchor and not spec.snapshot else "")
        lines.append(
            f"| {name} | {col.zh} | {TYPE_ZH[col.type]} | {'必填' if col.required else ''} "
            f"| {'；'.join(values)} |"
        )
    if spec.order:
        lines += [
            "",
            "Order (an end never before its start): "
            + "；".join(f"`{later}` ≥ `{earlier}`" for later, earlier in spec.order)
            + ".",
        ]
    return [*lines, ""]


def _plausible() -> list[str]:
    rows = [
        "## Plausible maxima",
        "",
        "Where the contract states no upper bound, these catch the impossible (a unit or export",
        "error), never the merely unusual; a value above one is a bad row. An end up to",
        f"{_num(schema.PLAUSIBLE.order_tolerance_seconds)} s before its start is clock skew and is"
        " taken as the start.",
        "",
        "| threshold | value |",
        "|---|---|",
    ]
    for f in dataclasses.fields(schema.PLAUSIBLE):
        rows.append(f"| `{f.name}` | {_num(getattr(schema.PLAUSIBLE, f.name))} |")
    return [*rows, ""]


def render_markdown() -> str:
    out = [INTRO]
    for spec in DATASETS.values():
        out += _dataset(spec)
    out += _plausible()
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render_markdown()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8", newline="\n")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
