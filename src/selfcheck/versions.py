"""The software versions a run records (manifest) and the report's appendix prints."""

from __future__ import annotations

import platform
from importlib import metadata

REPORTED_PACKAGES = (
    "selfcheck",
    "pandas",
    "numpy",
    "pyarrow",
    "duckdb",
    "pandera",
    "papermill",
    "nbconvert",
    "python-docx",
    "chinesecalendar",
    "matplotlib",
    "seaborn",
)


def package_versions() -> dict[str, str]:
    """Python and each reported package's installed version ('' when not installed)."""
    out = {"Python": platform.python_version()}
    for name in REPORTED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out
