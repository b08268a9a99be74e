"""Checks run at every public entry of :mod:`routing`: shapes, finiteness, CRS, options."""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from pyproj import CRS

from routing.errors import NetworkDataError, RoutingInputError

#: The weights a search can minimise.
WEIGHTS = ("length_m", "travel_time_s")


def check_metric_crs(crs: CRS) -> None:
    """Raise unless ``crs`` is a projected CRS in metres.

    Raises
    ------
    NetworkDataError
        If the CRS is geographic or its axes are not in metres.
    """
    unit = crs.axis_info[0].unit_name if crs.axis_info else ""
    if not crs.is_projected or unit not in {"metre", "meter"}:
        msg = f"the network CRS must be projected in metres, got {crs.to_string()}"
        raise NetworkDataError(msg)


def points_xy(points: Any, *, crs: CRS, field: str) -> npt.NDArray[np.float64]:
    """Return ``points`` as an ``(n, 2)`` float array of x, y in the network's CRS.

    Parameters
    ----------
    points
        An ``(n, 2)`` or ``(2,)`` array-like of x, y in the network's metric CRS, or a
        GeoSeries / GeoDataFrame of points whose CRS equals ``crs``.
    crs
        The network's metric CRS.
    field
        The argument's name, used in error messages.

    Raises
    ------
    RoutingInputError
        If the shape is wrong, a geometry is not a point, or the CRS differs.
    """
    if isinstance(points, gpd.GeoDataFrame):
        points = points.geometry
    if isinstance(points, gpd.GeoSeries):
        if points.crs is None or CRS.from_user_input(points.crs) != crs:
            found = "no CRS" if points.crs is None else points.crs.to_string()
            msg = f"{field} are in {found}; the network is in {crs.to_string()}"
            raise RoutingInputError(msg, field=field)
        kinds = set(points.geom_type.dropna())
        if kinds - {"Point"} or points.isna().any():
            msg = f"{field} must all be points, got {sorted(kinds) or 'missing geometries'}"
            raise RoutingInputError(msg, field=field)
        return np.column_stack([points.x.to_numpy(float), points.y.to_numpy(float)])
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        msg = f"{field} must be an (n, 2) array of x, y in metres or a GeoSeries of points"
        raise RoutingInputError(msg, field=field) from None
    if array.ndim == 1 and array.shape == (2,):
        array = array.reshape(1, 2)
    if array.ndim != 2 or array.shape[1] != 2:
        msg = f"{field} must have shape (n, 2), got {array.shape}"
        raise RoutingInputError(msg, field=field)
    return array


def check_weight(weight: str) -> str:
    """Return ``weight`` if it is one of :data:`WEIGHTS`.

    Raises
    ------
    RoutingInputError
        For any other name.
    """
    if weight not in WEIGHTS:
        msg = f"weight must be one of {', '.join(WEIGHTS)}, got {weight!r}"
        raise RoutingInputError(msg, field="weight")
    return weight


def check_cutoff(cutoff: float | None) -> float:
    """Return the search limit (``inf`` for none).

    Raises
    ------
    RoutingInputError
        If ``cutoff`` is negative or not a number.
    """
    if cutoff is None:
        return math.inf
    value = float(cutoff)
    if math.isnan(value) or value < 0:
        msg = f"cutoff must be a number >= 0, got {cutoff!r}"
        raise RoutingInputError(msg, field="cutoff")
    return value


def check_positive(value: float, *, field: str) -> float:
    """Return ``value`` if it is a finite number > 0.

    Raises
    ------
    RoutingInputError
        Otherwise.
    """
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        msg = f"{field} must be a finite number > 0, got {value!r}"
        raise RoutingInputError(msg, field=field)
    return number


def check_count(value: int, *, field: str) -> int:
    """Return ``value`` if it is an integer >= 1.

    Raises
    ------
    RoutingInputError
        Otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        msg = f"{field} must be an integer >= 1, got {value!r}"
        raise RoutingInputError(msg, field=field)
    return int(value)


def check_edge_arrays(
    *,
    n_nodes: int,
    edge_u: npt.NDArray[np.int32],
    edge_v: npt.NDArray[np.int32],
    length_m: npt.NDArray[np.float64],
    time_s: npt.NDArray[np.float64],
) -> None:
    """Check that edge endpoints are node indices and weights are numbers >= 0.

    Raises
    ------
    NetworkDataError
        If an endpoint is out of range, a length is negative or not finite, or a travel
        time is negative or NaN (``inf`` marks an edge closed to a mode).
    """
    m = edge_u.shape[0]
    if edge_v.shape[0] != m or length_m.shape[0] != m or time_s.shape[-1] != m:
        msg = "edge arrays have different lengths"
        raise NetworkDataError(msg)
    if m and (min(edge_u.min(), edge_v.min()) < 0 or max(edge_u.max(), edge_v.max()) >= n_nodes):
        msg = "an edge refers to a node that is not in the network"
        raise NetworkDataError(msg)
    if not np.all(np.isfinite(length_m)) or np.any(length_m < 0):
        msg = "edge attribute length_m must be a finite number >= 0 on every edge"
        raise NetworkDataError(msg)
    if np.any(np.isnan(time_s)) or np.any(time_s < 0):
        msg = "edge attribute travel_time_s must be a number >= 0 (inf when closed)"
        raise NetworkDataError(msg)
