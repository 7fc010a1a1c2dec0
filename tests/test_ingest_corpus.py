"""The corpus of damaged inputs (tests/corpus.py) through the real command line.

For every case ``python -m selfcheck validate`` runs in a subprocess: no traceback
ever reaches the analyst; an error case exits with its code and a message naming the
file and what is wrong; every other case accounts for every record of every file —
``records in the file = kept + excluded`` — with the reasons and the physical lines of
the examples known by construction, and names the files it did not use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_params
from corpus import CASES, Case

from selfcheck.config import load_config
from selfcheck.ingest import DataStore
from selfcheck.period import Period

Q3 = Period.parse("2026Q3")


def _setup(tmp_path: Path, c: Case) -> Path:
    folder = tmp_path / "data" / "2026Q3"
    folder.mkdir(parents=True)
    for name, data in c.files.items():
        (folder / name).write_bytes(data)
    return write_params(tmp_path / "params", tmp_path / "data", **c.params)


def _validate(params: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SELFCHECK_POOL_IDLE": "0", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "selfcheck", "validate", str(params)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_case(tmp_path, name):
    c = CASES[name]
    params = _setup(tmp_path, c)
    proc = _validate(params)
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output

    if not c.datasets:  # an error is expected
        assert proc.returncode == c.exit_code, output
        for words in c.error:
            assert words in proc.stderr, (words, proc.stderr)
        return

    assert proc.returncode == 0, output
    record = json.loads(
        (tmp_path / "params" / "outputs" / "2026Q3" / "data_quality.json").read_text(
            encoding="utf-8"
        )
    )
    got = {d["name"]: d for d in record["datasets"]}
    assert set(got) == set(c.datasets), set(got)
    for dataset, want in c.datasets.items():
        q = got[dataset]
        excluded = q["excluded"]
        # every record of the file is accounted for
        assert q["rows_read"] == want.records, (dataset, q["rows_read"], q)
        assert q["rows_read"] == q["rows_kept"] + sum(excluded.values()), (dataset, q)
        assert q["rows_kept"] == want.kept, (dataset, q)
        for part, n in want.reasons.items():
            hits = {k: v for k, v in excluded.items() if part in k}
            assert sum(hits.values()) == n, (dataset, part, excluded)
        for part, lines in want.lines.items():
            shown = [e["line"] for e in q["examples"] if part in e["reason"]]
            assert shown == lines, (dataset, part, q["examples"])
        notes = " ".join(q.get("notes", []))
        for words in want.notes:
            assert words in notes, (dataset, words, notes)
    unused = " ".join(u["name"] for u in record.get("unused_files", []))
    for file in c.unused:
        assert file in unused, (file, record.get("unused_files"))
        assert file in proc.stdout, proc.stdout  # and said on the terminal
    if c.check is not None:
        store = DataStore(load_config(params))
        c.check({n: store.get(n, Q3) for n in c.datasets})


def test_corpus_covers_every_class():
    """The classes of bad input the corpus must hold, one case at least for each."""
    classes = {
        "quote": "unbalanced_quote",
        "line numbers": "quoted_line_breaks_and_blank_lines",
        "sheets": "two_sheets",
        "hidden sheets": "hidden_sheet_with_last_quarter",
        "files not used": "misnamed_copy",
        "ordering": "end_before_start",
        "ranges": "out_of_range_values",
        "another quarter": "folder_of_another_quarter",
        "control characters": "control_characters",
        "empty rows": "trailing_empty_rows",
        "totals row": "totals_row_in_tiny_file",
        "renamed file": "xlsx_renamed_csv",
        "durations": "durations_as_time_text",
        "excel durations": "durations_as_excel_time_cells",
        "split timestamp": "date_and_time_columns",
    }
    assert set(classes.values()) <= set(CASES)
    assert len(CASES) >= 30
