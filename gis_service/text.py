"""Vietnamese text: one normal form for storage and one folded key for search and sort."""

from __future__ import annotations

import re
import unicodedata

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
