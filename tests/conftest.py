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
    # the LibreOffice layout pass costs seconds a run: on only where a test asks for it
    extra.setdefault("layout", "off")
    lines += [f"{k}: {v}" for k, v in extra.items()]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{PERIOD}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


MEASURES_Q3 = """
problems:
  - title: 知识库更新滞后
    description: 部分新业务的话术和知识条目未及时更新，坐席解答口径不一。
    severity: 较重
measures:
  - problem: phone.service_level
    cause: 促销周来电集中，排班未按预测峰值增配坐席。
    measure: 按小时来电预测排班，促销期间启用弹性班组。
    owner: 客户服务中心运营组
    due: 2026-12-31
    status: 进行中
  - problem: 知识库更新滞后
    cause: 知识条目维护无固定责任人。
    measure: 建立新业务上线前知识条目审核机制。
    owner: 质量管理组
    due: 2026-11-30
"""
MEASURES_Q2 = """
measures:
  - problem: phone.service_level
    cause: 夏季来电上升。
    measure: 增加午间班次。
    owner: 运营组
    due: 2026-09-30
    status: 已完成
"""
TEXTS_Q3 = """
replace:
  response.phone: 分析人员改写的电话服务段落。
add:
  response.overview:
    - 分析人员补充：本季度上线了新版智能客服。
"""


@pytest.fixture(scope="session")
def sample_params(sample_root, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    (folder / "2026Q3_measures.yaml").write_text(MEASURES_Q3, encoding="utf-8")
    (folder / "2026Q2_measures.yaml").write_text(MEASURES_Q2, encoding="utf-8")
    (folder / "2026Q3_texts.yaml").write_text(TEXTS_Q3, encoding="utf-8")
    from selfcheck.checklist.sample import write_sample_workbooks

    write_sample_workbooks(folder)  # the checklists inspected: 自查工作开展情况 is in the report
    return write_params(folder, sample_root, layout="libreoffice")  # the render tests read its PDF


@pytest.fixture(scope="session")
def result(sample_params):
    """One full run of the real notebooks on the small sample (shared by the slow tests)."""
    from selfcheck.execution.runner import run

    return run(sample_params, echo=lambda _: None)
