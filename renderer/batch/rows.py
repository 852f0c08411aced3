"""Rows files: CSV with a header, or a YAML/JSON list of mappings, each row with its line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from renderer.errors import Position, Problem, ProjectError
from renderer.project.load import read_text
from renderer.project.yamlpos import load_yaml


@dataclass(frozen=True)
class Row:
    line: int  # in the rows file; a CSV's header is line 1
    values: dict[str, Any]
    problems: tuple[str, ...] = field(default=())  # what is wrong with the row itself, found while reading it


def read_rows(path: Path, variables: set[str]) -> list[Row]:
    """Every row of the file. A CSV header naming an unknown variable is an error for the whole file."""
    text = read_text(path)
    if path.suffix.lower() == ".csv":
        return _csv_rows(text, str(path), variables)
    return _document_rows(text, str(path), variables)


def _csv_rows(text: str, display: str, variables: set[str]) -> list[Row]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ProjectError([Problem(Position(display, 1, 1), "the rows file is empty (a CSV needs a header row)")]) from None
    except csv.Error as exc:
        raise ProjectError([Problem(Position(display, 1, 1), f"CSV: {exc}")]) from None
    columns = [name.strip() for name in header]
    problems = []
    column = 1
    for name, raw in zip(columns, header):
        if name not in variables:
            known = ", ".join(sorted(variables)) or "none"
            problems.append(Problem(Position(display, 1, column), f"column '{name}' names no variable of the template (variables: {known})"))
        column += len(raw) + 1
    if len(set(columns)) != len(columns):
        problems.append(Problem(Position(display, 1, 1), "a column name appears twice"))
    if problems:
        raise ProjectError(problems)
    rows = []
    line = reader.line_num + 1
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                if len(record) != len(columns):
                    rows.append(Row(line, {}, (f"{len(record)} cells for {len(columns)} columns",)))
                else:
                    # An empty cell means "not given": the variable's default applies.
                    rows.append(Row(line, {name: cell for name, cell in zip(columns, record) if cell != ""}))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise ProjectError([Problem(Position(display, reader.line_num, 1), f"CSV: {exc}")]) from None
    return rows


def _document_rows(text: str, display: str, variables: set[str]) -> list[Row]:
    located = load_yaml(text, display)
    if not isinstance(located.data, list):
        raise ProjectError([Problem(located.value_at(()), "a rows file is a list of mappings (or a CSV with a header)")])
    rows = []
    for i, item in enumerate(located.data):
        line = located.value_at((i,)).line
        if not isinstance(item, dict):
            rows.append(Row(line, {}, ("a row is a mapping of variable names to values",)))
            continue
        unknown = tuple(f"'{key}' names no variable of the template" for key in item if key not in variables)
        # A null (`name: ~`) is a value left out, as an empty CSV cell is: the default applies.
        rows.append(Row(line, {k: v for k, v in item.items() if k in variables and v is not None}, unknown))
    return rows
