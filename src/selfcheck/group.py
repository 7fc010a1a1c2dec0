"""A group of branches (``branches:`` in the parameters file): who is in this period's
consolidated report, and the state of each branch's own run.

The group run (:mod:`selfcheck.execution.group`) writes ``members.json`` in the group's
output folder before the consolidated report is built: the branches whose records are
pooled, and those left out (only with ``--allow-partial``: a branch whose run failed),
with why. The group's data store, scope and comparison section read it, so a notebook
opened in JupyterLab sees the same members as the last run. Without the file every
branch is a member.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from selfcheck.config import BranchModel, Config
from selfcheck.errors import ReportError

MEMBERS_FILE = "members.json"
MANIFEST_FILE = "run_manifest.json"
UNFINISHED_FILE = "运行未完成.txt"


@dataclass(frozen=True)
class Members:
    """The branches pooled in the consolidated report, and those left out (id → why)."""

    included: tuple[BranchModel, ...]
    excluded: dict[str, str] = field(default_factory=dict)

    def names(self) -> str:
        return "、".join(b.name for b in self.included)


def members_path(config: Config) -> Path:
    return config.output_dir / MEMBERS_FILE


def read_members(config: Config) -> Members:
    """This period's members (every branch when the group run has not said otherwise)."""
    path = members_path(config)
    every = tuple(config.branches)
    if not config.is_group or not path.exists():
        return Members(every)
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        excluded = {str(k): str(v) for k, v in d.get("excluded", {}).items()}
    except (OSError, ValueError, AttributeError) as e:
        raise ReportError(
            f"集团成员记录无法读取：{path}（{e}）。请重新运行 selfcheck run（集团参数文件）"
            " (unreadable group members record)"
        ) from None
    return Members(tuple(b for b in every if b.id not in excluded), excluded)


def write_members(config: Config, excluded: dict[str, str]) -> Path:
    path = members_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "period": str(config.period),
        "included": [b.id for b in config.branches if b.id not in excluded],
        "excluded": excluded,
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


def data_folders(config: Config, period=None) -> list[Path]:
    """The data folders of the period: of a group's consolidated report, each member
    branch's (in the order of ``branches:``); else the one folder."""
    if config.is_group:
        return [config.for_branch(b.id).data_dir(period) for b in read_members(config).included]
    return [config.data_dir(period)]


@dataclass(frozen=True)
class BranchState:
    """A branch's last run of the period, as its output folder tells it."""

    branch: BranchModel
    folder: Path
    complete: bool  # a report of this period, from a run that finished
    reason: str = ""  # why not complete


def branch_state(config: Config, branch: BranchModel) -> BranchState:
    """Whether ``branch`` (of the group ``config``) has a finished report of the period."""
    folder = config.for_branch(branch.id).output_dir
    if (folder / UNFINISHED_FILE).exists():
        return BranchState(
            branch, folder, False, f"上次运行未完成（见 {folder / UNFINISHED_FILE}）"
        )
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return BranchState(branch, folder, False, f"还没有本期报告（{folder}）")
    except (OSError, ValueError) as e:
        return BranchState(branch, folder, False, f"运行记录无法读取（{e}）")
    if manifest.get("period") != str(config.period) or not manifest.get("report"):
        return BranchState(branch, folder, False, f"还没有本期报告（{folder}）")
    return BranchState(branch, folder, True)
