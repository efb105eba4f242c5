"""One base for every error a person can cause: a message, where it is, and what to do.

A `Location` names what is known of where the mistake is: the file as the user sees it
(`data/products.csv`, `mkdocs.yml`, `docs/chapters/02-overall.md`), the line or row as a person
counts them, the column or the setting's key. Errors that collect many problems (the contract,
the catalogue, the data checks, the settings) keep their list in `issues`, each with its own
location and hint.

`str(error)` is the message as fupan has always printed it; `text()` is the located form. Any
other exception raised while building is a bug in fupan and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where a mistake is; every part is optional (only what is known is given)."""

    file: str | None = None
    line: int | None = None
    row: int | None = None
    column: str | None = None
    key: str | None = None

    def text(self) -> str:
        parts = [self.file] if self.file else []
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        if self.key is not None:
            parts.append(self.key)
        return ", ".join(parts)


@dataclass(frozen=True)
class Issue:
    """One problem of an error that collects many."""

    message: str
    location: Location | None = None
    hint: str | None = None

    def text(self) -> str:
        return render(self.message, self.location, self.hint)


def render(message: str, location: Location | None, hint: str | None) -> str:
    """'file, row N, column C: message' and, unless the message already says it, '  Hint: …'."""
    where = location.text() if location is not None else ""
    out = f"{where}: {message}" if where else message
    if hint and hint not in message:
        out += f"\n  Hint: {hint}"
    return out


def shown_path(path: str | Path) -> str:
    """A path as the user sees it: relative to the folder fupan runs in when it lies inside."""
    text = str(path)
    if "://" in text:
        return text
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (OSError, ValueError):
        return text


class FupanError(Exception):
    """A mistake in the settings, the data, the contract, the catalogue or a page."""

    def __init__(self, message: str, *, location: Location | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint
        self.issues: list[Issue] = []

    def __str__(self) -> str:
        # KeyError would quote the message; every FupanError prints it as written.
        return self.message

    def text(self) -> str:
        return render(self.message, self.location, self.hint)


class ArgumentError(FupanError, ValueError):
    """A macro (or a helper a macro calls) was given an argument it cannot use."""


class FileProblems(FupanError):
    """Every problem found in one declaration file (the contract, the catalogue), listed at once;
    each problem text is located by the file's own `locate` (its key path or its line)."""

    subject = "the file"  # what the file is, for the summary line

    def __init__(self, path: str | Path, problems: list[str], locate: Callable[[str, str], Issue]):
        self.path = path
        self.problems = problems
        file = shown_path(path)
        issues = [locate(file, p) for p in problems]
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} problem(s) in {self.subject}:\n{lines}",
                         location=issues[0].location if issues else Location(file),
                         hint=issues[0].hint if issues else None)
        self.issues = issues

    def text(self) -> str:
        return self.message  # each problem already names its key or line
