"""One error hierarchy; the CLI maps each class to an exit code.

Every error the user can cause derives from VbrError and prints as one line
(or one line per problem, for a project file with several). Subclasses also
inherit a builtin so library callers can catch them idiomatically.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Position:
    """Where a problem sits in a file, 1-based like every editor shows it."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One located message; a ProjectError carries one or more."""

    position: Position | None
    message: str

    def __str__(self) -> str:
        return f"{self.position}: {self.message}" if self.position else self.message


class VbrError(Exception):
    """Base of every error the user can cause; exit status 1 unless overridden."""

    exit_code = 1

    def lines(self) -> list[str]:
        return [str(self)]


class UsageError(VbrError, ValueError):
    """Bad command-line use."""

    exit_code = 2


class ProjectError(VbrError, ValueError):
    """An invalid project file: every problem found, each with its position."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(
            problems,
            key=lambda p: (p.position.line, p.position.column) if p.position else (0, 0),
        )
        super().__init__("\n".join(str(p) for p in self.problems))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]


class MediaError(VbrError, RuntimeError):
    """A source or image that cannot be read, or an encoder that fails."""


class ModelError(VbrError, RuntimeError):
    """Model weights missing, corrupt, or not the shape they should be."""


class RowError(VbrError, ValueError):
    """A row of a batch's rows file that cannot render: one `ROWS:LINE: message` line per problem."""

    def __init__(self, lines: list[str], exit_code: int = 2):
        super().__init__("\n".join(lines))
        self._lines = list(lines)
        self.exit_code = exit_code

    def lines(self) -> list[str]:
        return list(self._lines)


def first_line(exc: BaseException) -> str:
    """What a foreign library's exception says, in one line for a one-line error (its type if it says nothing)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
