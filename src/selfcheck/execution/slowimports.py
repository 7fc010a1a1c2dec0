"""Imports a run and the fork server keep out: third-party modules that are slow to import
and unused by the report."""

from __future__ import annotations

import sys


def block_slow_imports() -> None:
    """Keep jsonschema from importing ``rfc3987_syntax`` (it compiles a Lark grammar: ~2 s).

    jsonschema imports it, when installed, only to check the ``iri`` and
    ``iri-reference`` string formats; nbformat's schema uses neither, so every
    notebook validates the same without it.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
