"""Vietnamese text: one normal form for storage and one folded key for search and sort."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

_SPACES = re.compile(r"\s+")


def normalize_text(value: str) -> str:
    """Return ``value`` in Unicode NFC with runs of white space collapsed and trimmed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


def fold_text(value: str) -> str:
    """Return the search/sort key of ``value``: lower case, diacritics removed, ``đ`` -> ``d``.

    Examples
    --------
    >>> fold_text("Tiểu học Phan Đình Phùng")
    'tieu hoc phan dinh phung'
    """
    decomposed = unicodedata.normalize("NFD", normalize_text(value).casefold())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.replace("đ", "d")


#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """Return a cell of user text that a spreadsheet shows as text, never runs as a formula.

    A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading ``'`` (the OWASP rule); :func:`from_spreadsheet_safe` takes it off again.

    Examples
    --------
    >>> spreadsheet_safe("=HYPERLINK(1)"), spreadsheet_safe("Lê Văn A")
    ("'=HYPERLINK(1)", 'Lê Văn A')
    """
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def from_spreadsheet_safe(value: str) -> str:
    """Return a cell read from a file without the ``'`` :func:`spreadsheet_safe` put before it.

    Only one ``'`` is taken off, and only where what follows would start a formula.
    """
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def no_control_characters(value: str) -> str:
    """Return a one-line text if it holds no control character; a pydantic validator.

    NUL, tabs, line breaks and every other C0 or C1 control character are refused.

    Raises
    ------
    ValueError
        If ``value`` holds a control character.
    """
    found = _CONTROL.search(value)
    if found is not None:
        msg = (
            f"chứa ký tự điều khiển U+{ord(found.group()):04X} ở vị trí {found.start()} / "
            f"holds the control character U+{ord(found.group()):04X} at {found.start()}"
        )
        raise ValueError(msg)
    return value


#: One line of text a person typed (a name, an address, a contact): control characters refused.
PlainText = Annotated[str, AfterValidator(no_control_characters)]
