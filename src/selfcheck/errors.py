"""The error hierarchy. Every message is written for the analyst who runs the report."""

from __future__ import annotations


class SelfcheckError(Exception):
    """Base of every error the product raises on purpose.

    The CLI prints ``str(error)`` (no traceback) and exits with :attr:`exit_code`.
    """

    exit_code = 1


class ParamsError(SelfcheckError):
    """A parameters or standards file is missing, malformed or holds a bad value."""

    exit_code = 2


class DataError(SelfcheckError):
    """An input dataset cannot be used as it is."""

    exit_code = 3


class SectionError(SelfcheckError):
    """A report section (notebook) failed while running."""

    exit_code = 4

    def __init__(self, message: str, *, section: str | None = None) -> None:
        super().__init__(message)
        self.section = section


class ReportError(SelfcheckError):
    """The Word report could not be assembled or written."""

    exit_code = 5


class RunLockedError(SelfcheckError):
    """Another run (or validation) holds the output folder: its pid, host, start and command
    are in the message."""

    exit_code = 6


class OutputError(SelfcheckError):
    """An output file or folder cannot be created or written (a file in the way, read-only)."""

    exit_code = 7
