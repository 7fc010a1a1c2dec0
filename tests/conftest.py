"""Shared fixtures: the small sample quarter and a parameters file pointing at it."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PERIOD = "2026Q3"


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory) -> Path:
    """Small sample data for 2026Q3 and the four quarters before it (generated once)."""
    from selfcheck.sample import generate

    root = tmp_path_factory.mktemp("data")
    generate(PERIOD, root, scale="small", history=4)
    return root


def write_params(folder: Path, data_root: Path, **extra: str) -> Path:
    lines = [
        f"period: {PERIOD}",
        "organisation: 测试集团有限公司",
        "reporting_unit: 客户服务中心",
        "report_date: 2026-10-15",
        f"data_dir: {data_root.as_posix()}/{{period}}",
        f"standards: {(ROOT / 'params' / 'standards.yaml').as_posix()}",
        f"output_dir: {(folder / 'outputs').as_posix()}/{{period}}",
    ]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{PERIOD}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def sample_params(sample_root, tmp_path_factory) -> Path:
    return write_params(tmp_path_factory.mktemp("run"), sample_root)


@pytest.fixture(scope="session")
def result(sample_params):
    """One full run of the real notebooks on the small sample (shared by the slow tests)."""
    from selfcheck.runner import run

    return run(sample_params, echo=lambda _: None)
