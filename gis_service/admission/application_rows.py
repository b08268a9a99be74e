"""Applications as received: a JSON body or a CSV file read into raw rows.

Each raw row keeps every field as sent (text from CSV, JSON values from a body) and knows
how to point at each of its fields (``/3/date_of_birth`` in JSON, ``row 3, column
date_of_birth`` in CSV), so that the checks of :mod:`gis_service.admission.applications`
report what the family or the office wrote, where they wrote it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gis_service.errors import FieldProblem, InvalidInputError
from gis_service.text import fold_text

#: The fields of an application, in the order CSV exports write them.
APPLICATION_FIELDS = (
    "child_name",
    "date_of_birth",
    "lon",
    "lat",
    "ward_code",
    "contact",
    "choices",
    "sibling_school_codes",
    "priority_category",
)
#: Fields every application must have.
REQUIRED_FIELDS = ("child_name", "date_of_birth", "lon", "lat", "contact")
#: Most choice columns a file or body may hold, whatever the round allows.
MAX_LISTED = 20
_LIST_SEPARATORS = re.compile(r"[;,|]")
_CHOICE_COLUMN = re.compile(r"^(?:choice|nguyen_vong|nv)_?(\d{1,2})$")
_HEADER_ALIASES = {
    "child_name": ("child_name", "name", "child", "ho_ten", "ho_va_ten", "ten"),
    "date_of_birth": ("date_of_birth", "dob", "birth_date", "ngay_sinh"),
    "lon": ("lon", "lng", "longitude", "kinh_do"),
    "lat": ("lat", "latitude", "vi_do"),
    "ward_code": ("ward_code", "ward", "ma_phuong"),
    "contact": ("contact", "phone", "email", "lien_he", "so_dien_thoai"),
    "choices": ("choices", "nguyen_vong"),
    "sibling_school_codes": (
        "sibling_school_codes",
        "sibling_schools",
        "sibling_school",
        "sibling",
        "anh_chi_em",
    ),
    "priority_category": ("priority_category", "priority", "uu_tien", "dien_uu_tien"),
}
_HEADERS = {alias: name for name, aliases in _HEADER_ALIASES.items() for alias in aliases}


@dataclass(frozen=True, slots=True)
class ApplicationProblem:
    """One problem of one application.

    Attributes
    ----------
    pointer
        Where: ``/2/choices/1`` (JSON) or ``row 3, column choice_2`` (CSV).
    reason
        A short machine-readable code, such as ``not_first_grade_age``.
    detail
        The explanation shown to the user.
    """

    pointer: str
    reason: str
    detail: str

    def to_json(self) -> dict[str, str]:
        """Return the problem as in a problem+json ``errors`` list."""
        return {"pointer": self.pointer, "reason": self.reason, "detail": self.detail}


class ApplicationsRejectedError(InvalidInputError):
    """Applications were refused; nothing was written. ``rejections`` lists every problem."""

    def __init__(self, detail: str, rejections: Sequence[ApplicationProblem]) -> None:
        super().__init__(detail, problems=[FieldProblem(p.pointer, p.detail) for p in rejections])
        self.rejections = tuple(rejections)


@dataclass(frozen=True, slots=True)
class RawApplication:
    """An application as sent: each field's raw value and how to point at it.

    Attributes
    ----------
    values
        Field name -> value: text from CSV, JSON values from a body; ``choices`` and
        ``sibling_school_codes`` as lists.
    label
        ``"application 3"`` or ``"row 3"``, for messages.
    locate
        Returns the pointer of a field (and of one of its list items).
    unknown
        Fields of a JSON body that are not application fields.
    """

    values: Mapping[str, Any]
    label: str
    locate: Callable[[str, int | None], str]
    unknown: tuple[str, ...] = ()


def json_applications(body: Any) -> list[RawApplication]:
    """Return the applications of a JSON body: one object, or a list of objects.

    Raises
    ------
    InvalidInputError
        If the body is neither, or the list is empty.
    """
    single = isinstance(body, dict)
    items = [body] if single else body
    if not isinstance(items, list) or not items:
        msg = "expected one application (a JSON object) or a non-empty list of them"
        raise InvalidInputError(msg, problems=[FieldProblem("/", msg)])
    raws = []
    for index, item in enumerate(items):
        base = "" if single else f"/{index}"

        def locate(name: str, position: int | None, base: str = base) -> str:
            return f"{base}/{name}" if position is None else f"{base}/{name}/{position}"

        if not isinstance(item, dict):
            msg = f"application {index} must be a JSON object, got {type(item).__name__}"
            raise InvalidInputError(msg, problems=[FieldProblem(base or "/", msg)])
        unknown = tuple(sorted(str(key) for key in item if key not in APPLICATION_FIELDS))
        raws.append(
            RawApplication(
                values={k: v for k, v in item.items() if k in APPLICATION_FIELDS},
                label="the application" if single else f"application {index}",
                locate=locate,
                unknown=unknown,
            )
        )
    return raws


@dataclass(frozen=True, slots=True)
class ApplicationFile:
    """The applications of a CSV file and the columns that were ignored."""

    rows: tuple[RawApplication, ...]
    ignored_columns: tuple[str, ...] = field(default_factory=tuple)


def _header_key(header: str) -> str:
    return re.sub(r"[\s\-]+", "_", fold_text(header)).strip("_")


def _file_problem(detail: str, *, column: str, reason: str) -> ApplicationsRejectedError:
    problem = ApplicationProblem(f"column {column}", reason, detail)
    return ApplicationsRejectedError(detail, [problem])


def read_application_csv(data: bytes) -> ApplicationFile:
    """Read applications from CSV (UTF-8; comma, semicolon or tab separated).

    Choices are in ``choice_1``, ``choice_2``... (or ``nguyen_vong_1``...) or one
    ``choices`` cell of codes separated by ``;``; sibling schools likewise. Row ``N`` is
    the ``N``-th data row (the header is row 0); blank rows are skipped but counted.

    Raises
    ------
    ApplicationsRejectedError
        If the file is not UTF-8 text, not readable as CSV or lacks a required column.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        msg = "the file is not UTF-8 text: save the sheet as 'CSV UTF-8'"
        raise _file_problem(msg, column="*", reason="not_utf8") from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        msg = "the file is empty: expected a header row and one row per application"
        raise _file_problem(msg, column="*", reason="empty_file")
    separator = max(",;\t", key=lines[0].count)
    try:
        return _read_rows(csv.reader(io.StringIO(text, newline=""), delimiter=separator))
    except csv.Error as error:
        msg = f"the file is not a readable CSV file ({error})"
        raise _file_problem(msg, column="*", reason="unreadable_csv") from None


def _read_rows(reader: Iterator[list[str]]) -> ApplicationFile:
    """Read the header and the rows of an application file (see ``read_application_csv``)."""
    headers = next(reader)
    columns: dict[str, int] = {}
    choice_columns: dict[int, tuple[int, str]] = {}
    ignored = []
    for position, header in enumerate(headers):
        key = _header_key(header)
        numbered = _CHOICE_COLUMN.match(key)
        if numbered:
            choice_columns[int(numbered.group(1))] = (position, header.strip())
        elif key in _HEADERS and _HEADERS[key] not in columns:
            columns[_HEADERS[key]] = position
        elif header.strip():
            ignored.append(header.strip())
    names = {field_name: headers[position].strip() for field_name, position in columns.items()}
    for required in REQUIRED_FIELDS:
        if required not in columns:
            msg = f"the file has no {required} column (headers: {', '.join(headers)})"
            raise _file_problem(msg, column=required, reason="missing_column")
    if "choices" not in columns and not choice_columns:
        msg = "the file has no choices column nor choice_1, choice_2... columns"
        raise _file_problem(msg, column="choice_1", reason="missing_column")
    ordered_choices = [choice_columns[n] for n in sorted(choice_columns)][:MAX_LISTED]
    rows = []
    for number, cells in enumerate(reader, start=1):
        if not any(cell.strip() for cell in cells):
            continue
        rows.append(_csv_row(number, cells, columns, names, ordered_choices))
    return ApplicationFile(rows=tuple(rows), ignored_columns=tuple(ignored))


def _csv_row(
    number: int,
    cells: list[str],
    columns: Mapping[str, int],
    names: Mapping[str, str],
    choice_columns: Sequence[tuple[int, str]],
) -> RawApplication:
    def cell(position: int) -> str | None:
        value = cells[position].strip() if position < len(cells) else ""
        return value or None

    values: dict[str, Any] = {name: cell(position) for name, position in columns.items()}
    listed: list[str] = []
    column_of: list[str] = []
    if choice_columns:
        for position, header in choice_columns:
            value = cell(position)
            if value is not None:
                listed.append(value)
                column_of.append(header)
    elif values.get("choices"):
        listed = split_list(values["choices"])
        column_of = [names["choices"]] * len(listed)
    values["choices"] = listed
    siblings = values.get("sibling_school_codes")
    values["sibling_school_codes"] = split_list(siblings) if siblings else []

    def locate(name: str, position: int | None) -> str:
        if name == "choices":
            if position is not None and position < len(column_of):
                return f"row {number}, column {column_of[position]}"
            header = choice_columns[0][1] if choice_columns else names.get("choices", "choices")
            return f"row {number}, column {header}"
        return f"row {number}, column {names.get(name, name)}"

    return RawApplication(values=values, label=f"row {number}", locate=locate)


def split_list(text: str) -> list[str]:
    """Return the codes of a cell listing several (separated by ``;``, ``,`` or ``|``)."""
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


# --- checking -------------------------------------------------------------------------------


__all__ = [
    "APPLICATION_FIELDS",
    "MAX_LISTED",
    "REQUIRED_FIELDS",
    "ApplicationFile",
    "ApplicationProblem",
    "ApplicationsRejectedError",
    "RawApplication",
    "json_applications",
    "read_application_csv",
    "split_list",
]
