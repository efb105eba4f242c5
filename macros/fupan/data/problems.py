"""One problem found in the data: where it is (file, row as a person counts, column), the value,
the rule it breaks and how to fix it. The data checks and the export intake both report these."""

from __future__ import annotations

from dataclasses import dataclass

from fupan.errors import Location


@dataclass(frozen=True)
class Problem:
    severity: str  # error | warning
    dataset: str
    file: str
    rule: str
    message: str
    hint: str = ""
    row: int | None = None
    header: str | None = None
    column: str | None = None
    value: str | None = None

    @property
    def location(self) -> Location:
        column = None if self.header is None else f"{self.header} ({self.column})"
        return Location(self.file, row=self.row, column=column)

    def text(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.header is not None:
            where.append(f"column {self.header} ({self.column})")
        value = f": value {self.value!r}" if self.value is not None else ""
        hint = f" Hint: {self.hint}" if self.hint else ""
        return f"{', '.join(where)}{value} — {self.message} [rule: {self.rule}].{hint}"
