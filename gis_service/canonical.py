"""Canonical JSON and its SHA-256: one definition for every stored ``*_hash``.

The hashes of zone versions, forecast inputs, placement runs and scenario evaluations are
all made here. Canonical means sorted keys, no spaces, UTF-8 text (Vietnamese letters as
themselves, not escapes) and no NaN or infinity, so equal documents give equal bytes on every
machine. Zone versions and scenario evaluations stored before this definition was shared
were hashed with spaces and ASCII escapes: their hashes still identify them, and a scenario
evaluation stored under the older baseline hash is simply evaluated again once.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(document: Any) -> str:
    """Return ``document`` as canonical JSON text.

    Parameters
    ----------
    document
        JSON-ready values (dicts, lists, strings, finite numbers, booleans, ``None``).

    Returns
    -------
    str
        Sorted keys, no spaces, non-ASCII letters kept.

    Raises
    ------
    ValueError
        If the document holds NaN or infinity.
    """
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_sha256(document: Any) -> str:
    """Return the SHA-256 (64 hexadecimal digits) of ``document``'s canonical JSON."""
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()
