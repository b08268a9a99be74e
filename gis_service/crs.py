"""The only conversions between EPSG:4326 (API, store) and a district's metric CRS."""

from __future__ import annotations

from typing import TypeVar

import geopandas as gpd
from pyproj import CRS

Frame = TypeVar("Frame", gpd.GeoDataFrame, gpd.GeoSeries)

#: The CRS of everything at the edges: API bodies, GeoJSON and the store (lon/lat order).
WGS84 = CRS.from_epsg(4326)


def require_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries, expected: CRS, *, what: str) -> None:
    """Raise when ``frame`` lacks a CRS or carries another one than ``expected``.

    Raises
    ------
    ValueError
        With ``what`` named in the message.
    """
    if frame.crs is None:
        msg = f"{what} has no CRS; expected {expected.to_string()}"
        raise ValueError(msg)
    if CRS.from_user_input(frame.crs) != expected:
        msg = f"{what} is in {frame.crs.to_string()}; expected {expected.to_string()}"
        raise ValueError(msg)


def estimate_metric_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> CRS:
    """Return the UTM zone CRS (metres) that fits the data's extent.

    Raises
    ------
    ValueError
        If the data has no CRS.
    """
    if frame.crs is None:
        msg = "cannot pick a metric CRS for data without a CRS"
        raise ValueError(msg)
    utm = frame.estimate_utm_crs()
    if utm is None:  # pragma: no cover - pyproj finds a zone for any valid extent
        msg = "no UTM zone fits the data's extent"
        raise ValueError(msg)
    return CRS.from_user_input(utm)


def to_wgs84(frame: Frame) -> Frame:
    """Return ``frame`` in EPSG:4326, reprojecting when it is in another CRS.

    Raises
    ------
    ValueError
        If ``frame`` has no CRS.
    """
    if frame.crs is None:
        msg = "cannot reproject data without a CRS to EPSG:4326"
        raise ValueError(msg)
    return frame if CRS.from_user_input(frame.crs) == WGS84 else frame.to_crs(WGS84)


def to_metric(frame: Frame, metric_crs: CRS) -> Frame:
    """Return ``frame`` reprojected to the district's metric CRS.

    Raises
    ------
    ValueError
        If ``frame`` has no CRS or ``metric_crs`` is not in metres.
    """
    if frame.crs is None:
        msg = "cannot reproject data without a CRS to a metric CRS"
        raise ValueError(msg)
    unit = metric_crs.axis_info[0].unit_name if metric_crs.axis_info else ""
    if unit not in {"metre", "meter"}:
        msg = f"{metric_crs.to_string()} is not a metric CRS (axis unit {unit!r})"
        raise ValueError(msg)
    return frame.to_crs(metric_crs)
