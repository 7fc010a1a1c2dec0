"""The ``columns:`` / ``max_bad_share`` parameters, the Arrow file cache and the quality record."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest
from conftest import write_params

from selfcheck import quality as quality_mod
from selfcheck.config import load_config
from selfcheck.errors import DataError, ParamsError
from selfcheck.ingest import DatasetMapping, DataStore, read_dataset
from selfcheck.ingest import store as store_mod
from selfcheck.period import Period
from selfcheck.sample import generate
from selfcheck.schema import DATASETS

Q3 = Period.parse("2026Q3")
VENDOR = (
    "{calls: {rename: {通话ID: call_id}, values: {outcome: {AGENT: answered, HANG: abandoned}}}}"
)


@pytest.fixture()
def data(tmp_path) -> Path:
    root = tmp_path / "data"
    generate(Q3, root, scale="small", history=0)
    return root


# -- parameters ------------------------------------------------------------------------


def test_columns_mapping_is_typed_and_reaches_the_store(tmp_path, data):
    config = load_config(write_params(tmp_path, data, columns=VENDOR, max_bad_share="0.1"))
    assert config.params.max_bad_share == 0.1
    m = DatasetMapping.from_params(config.params.columns, "calls")
    assert m.rename == {"通话ID": "call_id"}
    assert m.values == {"outcome": {"AGENT": "answered", "HANG": "abandoned"}}
    assert DatasetMapping.from_params(config.params.columns, "chats") == DatasetMapping()


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ("{callz: {rename: {a: call_id}}}", "columns.callz: 未知的参数名"),
        (
            "{calls: {rename: {通话ID: cal_id}}}",
            "columns.calls.rename.通话ID: Input should be 'call_id'",
        ),
        ("{calls: {values: {outcome: {HANG: abandon}}}}", "columns.calls.values.outcome.HANG"),
        (
            "{calls: {values: {outcom: {HANG: abandoned}}}}",
            "columns.calls.values.outcom: 未知的参数名",
        ),
        ("{calls: {values: {outcome: {yes: answered}}}}", "请给它加引号"),
        ("{calls: {renames: {}}}", "columns.calls.renames: 未知的参数名"),
    ],
)
def test_bad_columns_mapping_names_key_and_file(tmp_path, data, columns, message):
    path = write_params(tmp_path, data, columns=columns)
    with pytest.raises(ParamsError) as e:
        load_config(path)
    assert str(path) in str(e.value) and message in str(e.value)


@pytest.mark.parametrize("value", ["-0.1", "1.5", "abc"])
def test_max_bad_share_must_be_a_share(tmp_path, data, value):
    with pytest.raises(ParamsError, match="max_bad_share"):
        load_config(write_params(tmp_path, data, max_bad_share=value))


# -- the cache ---------------------------------------------------------------------------


def _forbid_parsing(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("parsed the export although the cache is valid")

    monkeypatch.setattr(store_mod, "ingest", boom)


def test_validate_builds_the_cache_and_notebooks_read_it(tmp_path, data, monkeypatch):
    config = load_config(write_params(tmp_path, data))
    quality = quality_mod.record_quality(config)
    cache = config.output_dir / "cache"
    assert sorted(p.stem for p in cache.glob("*.arrow")) == sorted(DATASETS)
    record = json.loads((config.output_dir / "data_quality.json").read_text(encoding="utf-8"))
    calls = next(d for d in record["datasets"] if d["name"] == "calls")
    assert calls["format"] == "CSV" and calls["encoding"] == "UTF-8" and calls["header_row"] == 1

    _forbid_parsing(monkeypatch)
    fresh = DataStore(config.data_dir)  # as a notebook may pass it, in another kernel
    for name in DATASETS:
        expected, _ = read_dataset(data / "2026Q3" / f"{name}.csv", DATASETS[name], Q3)
        pd.testing.assert_frame_equal(fresh.get(name, Q3), expected)
        assert fresh.quality(name, Q3) == quality[name]
    # validating again: hashes the inputs, reads no data
    assert DataStore(config).validate(Q3) == quality


def test_changed_input_invalidates_the_cache(tmp_path, data):
    config = load_config(write_params(tmp_path, data))
    DataStore(config).validate(Q3)
    path = data / "2026Q3" / "incidents.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    assert DataStore(config).get("incidents", Q3).shape[0] == 2
    assert DataStore(config).validate(Q3)["incidents"].rows_read == 2


def test_same_content_new_mtime_keeps_the_cache(tmp_path, data, monkeypatch):
    config = load_config(write_params(tmp_path, data))
    DataStore(config).validate(Q3)
    path = data / "2026Q3" / "incidents.csv"
    os.utime(path, ns=(1, 1))
    _forbid_parsing(monkeypatch)
    assert len(DataStore(config).get("incidents", Q3)) > 0  # re-hashed: same content


def test_changed_mapping_invalidates_the_cache(tmp_path, data):
    folder = data / "2026Q3"
    text = (folder / "calls.csv").read_text(encoding="utf-8")
    (folder / "calls.csv").write_text(
        text.replace("call_id,", "通话ID,", 1)
        .replace(",answered,", ",AGENT,")
        .replace(",abandoned,", ",HANG,"),
        encoding="utf-8",
    )
    plain = load_config(write_params(tmp_path, data))
    with pytest.raises(DataError, match="缺少必填列 call_id"):
        DataStore(plain).validate(Q3)
    mapped = load_config(write_params(tmp_path, data, columns=VENDOR))
    q = DataStore(mapped).validate(Q3)["calls"]
    assert q.columns_mapped == {"通话ID": "call_id"} and q.rows_bad == 0
    assert q.values_mapped["outcome"] > 0


def test_comparison_quarters_are_cached_too(tmp_path):
    root = tmp_path / "data"
    generate(Q3, root, scale="small", history=4)
    config = load_config(write_params(tmp_path, root))
    quality_mod.record_quality(config)
    for p in (Q3.previous(), Q3.year_ago()):
        assert (tmp_path / "outputs" / str(p) / "cache" / "calls.arrow").exists()
    assert not (tmp_path / "outputs" / str(Q3.shift(-2)) / "cache").exists()


def test_store_without_config_has_no_cache(tmp_path, data):
    store = DataStore(lambda p: data / str(p))
    assert set(store.validate(Q3)) == set(DATASETS)
    assert store.get("calls", Q3) is store.get("calls", Q3)
    assert not list(tmp_path.rglob("*.arrow"))


def test_the_documented_mapping_example_is_valid(tmp_path, data):
    import re

    import yaml

    doc = (Path(__file__).parents[1] / "docs" / "ingest.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(columns:.*?)```", doc, re.S).group(1)
    path = write_params(tmp_path, data)
    path.write_text(path.read_text(encoding="utf-8") + block, encoding="utf-8")
    columns = load_config(path).params.columns
    assert yaml.safe_load(block)["columns"]["calls"]["rename"]["通话ID"] == "call_id"
    assert DatasetMapping.from_params(columns, "chats").values == {
        "bot_only": {"机器人": True, "人工": False}
    }
    assert DatasetMapping.from_params(columns, "surveys").values["overall"] == {
        "非常满意": "5",
        "满意": "4",
    }
