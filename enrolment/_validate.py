"""Contract checks run at every public entry of the zoning core.

Each check returns the input as the array type the core computes with, or raises
:class:`~enrolment.errors.InvalidInputError` naming the offending parameter.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import CRS

from enrolment.errors import InvalidInputError
from enrolment.types import FloatArray, IntArray


def cost_matrix(values: npt.ArrayLike, *, field: str) -> FloatArray:
    """Return a ``(n_points, n_schools)`` cost matrix: non-negative numbers or ``inf``.

    Raises
    ------
    InvalidInputError
        If the matrix is not 2-D, has no school column, or holds NaN or negative values.
    """
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.ndim != 2:
        msg = f"expected a 2-D (points x schools) matrix, got shape {matrix.shape}"
        raise InvalidInputError(msg, field=field)
    if matrix.shape[1] == 0:
        msg = "the matrix has no school column"
        raise InvalidInputError(msg, field=field)
    if np.isnan(matrix).any():
        msg = "costs must be numbers (use inf, not NaN, for an unreachable pair)"
        raise InvalidInputError(msg, field=field)
    if (matrix < 0).any():
        msg = "costs must be non-negative"
        raise InvalidInputError(msg, field=field)
    return matrix


def amounts(values: npt.ArrayLike, size: int, *, field: str) -> FloatArray:
    """Return a 1-D array of ``size`` finite non-negative amounts (children, seats).

    Raises
    ------
    InvalidInputError
        If the shape is wrong or a value is negative, NaN or infinite.
    """
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (size,):
        msg = f"expected shape ({size},), got {array.shape}"
        raise InvalidInputError(msg, field=field)
    if not np.isfinite(array).all() or (array < 0).any():
        msg = "values must be finite and non-negative"
        raise InvalidInputError(msg, field=field)
    return array


def labels(values: Iterable[object], size: int, *, field: str) -> npt.NDArray[np.object_]:
    """Return ``size`` labels (ward codes) as an object array; ``None`` marks a missing one.

    Raises
    ------
    InvalidInputError
        If the number of labels is wrong.
    """
    array = np.array(
        [None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values],
        dtype=object,
    )
    if array.shape != (size,):
        msg = f"expected {size} labels, got {array.shape[0]}"
        raise InvalidInputError(msg, field=field)
    return array


def index_pairs(values: npt.ArrayLike, size: int, *, field: str) -> IntArray:
    """Return ``(k, 2)`` pairs of indices in ``[0, size)``.

    Raises
    ------
    InvalidInputError
        If the shape is wrong or an index is out of range.
    """
    pairs = np.asarray(values, dtype=np.int64).reshape(-1, 2) if np.size(values) else None
    if pairs is None:
        return np.zeros((0, 2), dtype=np.int64)
    if ((pairs < 0) | (pairs >= size)).any():
        msg = f"indices must lie in [0, {size})"
        raise InvalidInputError(msg, field=field)
    return pairs


def metric_frame(frame: gpd.GeoDataFrame | gpd.GeoSeries, *, field: str) -> CRS:
    """Return the CRS of ``frame`` after checking that it is projected in metres.

    Raises
    ------
    InvalidInputError
        If the CRS is missing, geographic or not in metres.
    """
    if frame.crs is None:
        msg = "has no CRS; expected a projected CRS in metres"
        raise InvalidInputError(msg, field=field)
    crs = CRS.from_user_input(frame.crs)
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if not crs.is_projected or unit not in {"metre", "meter"}:
        msg = f"is in {crs.to_string()}; expected a projected CRS in metres"
        raise InvalidInputError(msg, field=field)
    return crs


def same_crs(left: CRS, right: gpd.GeoDataFrame | gpd.GeoSeries, *, field: str) -> None:
    """Raise unless ``right`` is in ``left``.

    Raises
    ------
    InvalidInputError
        If the CRSs differ or ``right`` has none.
    """
    if right.crs is None or CRS.from_user_input(right.crs) != left:
        found = "no CRS" if right.crs is None else right.crs.to_string()
        msg = f"is in {found}; expected {left.to_string()} like the other inputs"
        raise InvalidInputError(msg, field=field)


def columns(frame: pd.DataFrame, required: Iterable[str], *, field: str) -> None:
    """Raise unless ``frame`` has every column in ``required``.

    Raises
    ------
    InvalidInputError
        Naming the missing columns.
    """
    missing = [name for name in required if name not in frame.columns]
    if missing:
        msg = f"missing column(s) {', '.join(missing)}"
        raise InvalidInputError(msg, field=field)


def geometry_types(
    frame: gpd.GeoDataFrame | gpd.GeoSeries, allowed: Iterable[str], *, field: str
) -> None:
    """Raise unless every geometry is non-empty and of one of the ``allowed`` types.

    Raises
    ------
    InvalidInputError
        Naming the first offending row.
    """
    series = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    kinds = set(allowed)
    bad = series.isna() | series.is_empty | ~series.geom_type.isin(kinds)
    if bad.any():
        first = series.index[np.flatnonzero(bad.to_numpy())[0]]
        msg = f"row {first!r} is not a non-empty {' or '.join(sorted(kinds))}"
        raise InvalidInputError(msg, field=field)
