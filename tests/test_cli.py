import subprocess
import sys

from selfcheck.cli import main


def test_sections_lists_the_registry(capsys):
    assert main(["sections"]) == 0
    out = capsys.readouterr().out
    assert "response" in out and "服务响应速度" in out and "10_appendix.ipynb" in out


def test_params_error_is_a_message_not_a_traceback(tmp_path, capsys):
    p = tmp_path / "2026Q3.yaml"
    p.write_text(
        "period: 2026Q3\norganisation: x\nreporting_unit: y\ncolour: red\n", encoding="utf-8"
    )
    assert main(["validate", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误：") and "colour" in err and "Traceback" not in err


def test_data_error_exit_code(tmp_path, capsys):
    (tmp_path / "standards.yaml").write_text("targets: {}\n", encoding="utf-8")
    p = tmp_path / "2026Q3.yaml"
    p.write_text("period: 2026Q3\norganisation: x\nreporting_unit: y\n", encoding="utf-8")
    assert main(["validate", str(p)]) == 3
    assert "数据目录不存在" in capsys.readouterr().err


def test_sample_then_validate(tmp_path, capsys):
    assert (
        main(
            [
                "sample",
                "--period",
                "2026Q3",
                "--scale",
                "small",
                "--history",
                "0",
                "--out",
                str(tmp_path / "data"),
            ]
        )
        == 0
    )
    (tmp_path / "standards.yaml").write_text("targets: {}\n", encoding="utf-8")
    p = tmp_path / "2026Q3.yaml"
    p.write_text(
        f"period: 2026Q3\norganisation: x\nreporting_unit: y\ndata_dir: {(tmp_path / 'data').as_posix()}/{{period}}\n",
        encoding="utf-8",
    )
    assert main(["validate", str(p)]) == 0
    out = capsys.readouterr().out
    assert "calls" in out and "数据质量记录" in out


def test_python_dash_m_works():
    done = subprocess.run(
        [sys.executable, "-m", "selfcheck", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("selfcheck ")


def test_lab_passes_jupyterlab_options_through(monkeypatch):
    from selfcheck.execution import kernels

    called = {}
    monkeypatch.setattr(kernels, "start_shared", lambda: None)  # no server in this test
    monkeypatch.setattr(
        subprocess, "call", lambda cmd, env=None: called.setdefault("cmd", cmd) and 0
    )
    assert main(["lab", "--no-browser", "--port", "8899"]) == 0
    cmd = called["cmd"]
    assert cmd[1:3] == ["-m", "jupyterlab"] and cmd[-3:] == ["--no-browser", "--port", "8899"]
    assert any(a.startswith("--notebook-dir=") for a in cmd)


def test_unknown_options_of_other_commands_are_errors(capsys):
    import pytest

    with pytest.raises(SystemExit) as e:
        main(["sections", "--bogus"])
    assert e.value.code == 2 and "--bogus" in capsys.readouterr().err
