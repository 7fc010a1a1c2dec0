"""docs/data-contract.md is generated from schema.py and committed up to date."""

from __future__ import annotations

from pathlib import Path

from selfcheck.contract import render_markdown
from selfcheck.schema import DATASETS

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "data-contract.md"


def test_committed_page_is_up_to_date():
    assert PAGE.read_text(encoding="utf-8") == render_markdown(), (
        "docs/data-contract.md is stale: run `python -m selfcheck.contract docs/data-contract.md`"
    )


def test_page_lists_every_dataset_and_column_with_its_header():
    text = render_markdown()
    for spec in DATASETS.values():
        assert f"## {spec.name}（{spec.zh}）" in text
        for col in spec.columns:
            assert f"| `{col.name}`" in text and f"| {col.zh} |" in text
    assert "`answered` 人工接听" in text
    assert "`major` 重大" in text


def test_nothing_in_the_repository_points_outside_it():
    import subprocess

    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, encoding="utf-8", check=True
    ).stdout.split()
    # spelled in pieces, so that this file does not find itself
    shared = "sha" + "red"
    needles = ("/wo" + "rk/", f"../{shared}", f"{shared}/spec", f"{shared}/reference")
    hits = []
    for name in files:
        path = ROOT / name
        if path.suffix in (".png", ".ttf", ".otf", ".docx", ".xlsx") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        hits += [f"{name}: {n}" for n in needles if n in text]
    assert hits == [], hits
