"""Errors in environment files, each pointing at a file, a line and a column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceError:
    """One problem in one input file: where it is, what is wrong, how to fix it."""

    file: str
    line: int | None
    column: int | None
    message: str
    hint: str = ""
    field: str = ""

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.field + ': ' if self.field else ''}{self.message}"
        if self.hint:
            text += f"\n    fix: {self.hint}"
        return text


class InvalidEnvironment(Exception):
    """Raised when one or more environment files are invalid; carries every error found."""

    def __init__(self, errors: list[SourceError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


