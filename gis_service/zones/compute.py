"""Admission zones of a district computed from its geography, with their figures.

:func:`compute_zoning` zones the demand points of a district's geography
(:class:`~gis_service.zones.geography.Geography`) with one method (by ward, to the nearest
school, or optimal under the seats), draws the zone polygons and measures the result;
:func:`compare_methods` puts the three methods side by side. A :class:`ZoningResult` becomes
a draft zone version to save.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely import MultiPolygon, Polygon

import enrolment
from gis_service.canonical import canonical_sha256
from gis_service.core_errors import enrolment_errors
from gis_service.crs import WGS84, to_wgs84
from gis_service.db.zones_repository import ZoneDraft, ZonePointRecord, ZoneRecord
from gis_service.errors import InvalidInputError
from gis_service.zones.geography import REPORTED_MODES, Geography


@dataclass(frozen=True, slots=True)
class ZoningOptions:
    """How to compute zones.

    Attributes
    ----------
    method
        ``"ward"``, ``"nearest"`` or ``"optimal"``.
    default_first_grade_classes
        Classes assumed for schools whose classes are unknown (``None``: the manifest's).
    mode
        Travel mode whose distances define the zones (``"walk"``).
    solver
        Transportation solver of the optimal method.
    contiguity
        Repair enclaves of the optimal method (where capacity allows).
    """

    method: str = "optimal"
    default_first_grade_classes: int | None = None
    mode: str = "walk"
    solver: str = "highs"
    contiguity: bool = True

    def to_json(self) -> dict[str, Any]:
        """Return the options as JSON-ready values."""
        return {
            "method": self.method,
            "default_first_grade_classes": self.default_first_grade_classes,
            "mode": self.mode,
            "solver": self.solver,
            "contiguity": self.contiguity,
        }


@dataclass(frozen=True, slots=True, eq=False)
class ZoningResult:
    """One method's zones with their figures.

    Attributes
    ----------
    options
        The options used.
    geography
        The inputs.
    seats
        Seats per school (and which are assumed).
    zoning
        The assignment of demand points to schools.
    statistics
        The method's figures.
    zones
        Zone polygons in EPSG:4326: ``school``, ``school_id`` and the zone's figures.
    seconds
        Time to compute the zones and their polygons.
    """

    options: ZoningOptions
    geography: Geography
    seats: enrolment.SeatEstimate
    zoning: enrolment.Zoning
    statistics: enrolment.MethodStatistics
    zones: gpd.GeoDataFrame
    seconds: float

    @property
    def school_codes(self) -> list[str]:
        """School codes by cost-matrix column."""
        return [s.code for s in self.geography.schools]

    def inputs(self) -> dict[str, Any]:
        """Return the inputs as stored with the version (geography plus seats)."""
        described = self.geography.describe()
        for school, seats, assumed in zip(
            described["schools"], self.seats.seats, self.seats.assumed, strict=True
        ):
            school["first_grade_seats"] = float(seats)
            school["seats_assumed"] = bool(assumed)
        described["seats"] = {
            "default_first_grade_classes": self.seats.default_classes,
            "note": self.seats.describe(),
            "source": self.geography.manifest.seats_source,
        }
        return described

    def inputs_hash(self) -> str:
        """Return the SHA-256 of the inputs and options (same inputs, same hash)."""
        payload = {"inputs": self.inputs(), "options": self.options.to_json()}
        return canonical_sha256(payload)

    def statistics_json(self) -> dict[str, Any]:
        """Return the figures as JSON-ready values."""
        return statistics_json(self.statistics, self.zoning, self.geography, self.school_codes)

    def draft(self, *, name: str, actor: str) -> ZoneDraft:
        """Return the zones as a draft version to save."""
        schools = self.geography.schools
        zone_rows = []
        for row in self.zones.itertuples():
            index = int(row.school)
            known = index >= 0
            zone_rows.append(
                ZoneRecord(
                    school_code=schools[index].code if known else None,
                    school_name=schools[index].name if known else None,
                    children=float(row.children),
                    seats=float(self.seats.seats[index]) if known else None,
                    seats_assumed=bool(self.seats.assumed[index]) if known else False,
                    boundary=row.geometry,
                )
            )
        lonlat = to_wgs84(self.geography.points.geometry)
        zoning = self.zoning
        points = tuple(
            ZonePointRecord(
                point_id=str(pid),
                ward_code=str(ward),
                children=float(zoning.children[i]),
                placed=float(zoning.placed[i]),
                school_code=None if zoning.school[i] < 0 else schools[int(zoning.school[i])].code,
                distance_m=None
                if not math.isfinite(zoning.distance_m[i])
                else float(zoning.distance_m[i]),
                lon=float(lonlat.iloc[i].x),
                lat=float(lonlat.iloc[i].y),
            )
            for i, (pid, ward) in enumerate(
                zip(
                    self.geography.points["point_id"],
                    self.geography.points["ward_code"],
                    strict=True,
                )
            )
        )
        return ZoneDraft(
            district_code=self.geography.district_net.district.code,
            name=name,
            method=self.options.method,
            options=self.options.to_json(),
            inputs=self.inputs(),
            inputs_hash=self.inputs_hash(),
            statistics=self.statistics_json(),
            created_by=actor,
            zones=tuple(zone_rows),
            points=points,
        )


def _round(value: float, digits: int = 3) -> float | None:
    return None if not math.isfinite(value) else round(float(value), digits)


def statistics_json(
    stats: enrolment.MethodStatistics,
    zoning: enrolment.Zoning,
    geography: Geography,
    school_codes: Sequence[str],
) -> dict[str, Any]:
    """Return one method's figures, per school and where contiguity broke, as JSON values."""
    table = enrolment.comparison_table([stats])[stats.method]
    wards = geography.points["ward_code"].astype(str).to_numpy()
    ids = geography.points["point_id"].astype(str).to_numpy()
    result: dict[str, Any] = {
        "figures": {str(k): _round(float(v)) for k, v in table.items()},
        "schools": [
            {
                "code": code,
                "children": _round(float(children)),
                "seats": _round(float(seats)),
                "seats_minus_children": _round(float(seats - children)),
            }
            for code, children, seats in zip(
                school_codes, stats.school_children, stats.school_seats, strict=True
            )
        ],
        "contiguity_breaks": [
            {
                "school_code": school_codes[b.school],
                "reason": b.reason,
                "children": _round(b.children),
                "wards": sorted(set(wards[b.points].tolist())),
                "points": ids[b.points].tolist(),
            }
            for b in zoning.breaks
        ],
        "shortfall_by_ward": {
            str(ward): _round(float(value))
            for ward, value in pd.Series(zoning.shortfall).groupby(wards).sum().items()
            if value > 1e-9
        },
    }
    if zoning.solve is not None:
        report = zoning.solve
        result["solve"] = {
            "solver": report.solver,
            "lower_bound_m": _round(report.lower_bound_m),
            "lp_overflow_children": _round(report.lp_overflow_children),
            "rounding": report.rounding,
            "tolerance": report.tolerance,
            "rounding_gap": _round(report.rounding_gap, 6),
            "rounded_distance_m": _round(report.rounded_distance_m),
            "lp_seconds": _round(report.lp_seconds),
            "rounding_seconds": _round(report.rounding_seconds),
            "contiguity_seconds": _round(report.contiguity_seconds),
        }
    return result


def compute_zoning(
    geography: Geography,
    options: ZoningOptions,
    *,
    allowed: npt.NDArray[np.bool_] | None = None,
) -> ZoningResult:
    """Compute one method's zones, figures and polygons from a district's geography.

    ``allowed`` (``(n_points, n_schools)``, optional) restricts the schools each point may
    be zoned to (a scenario keeps the points it does not touch in their zones); the
    figures still use the real distances.

    Raises
    ------
    InvalidInputError
        If an option is not valid.
    """
    if options.method not in enrolment.METHODS:
        msg = f"method must be one of {', '.join(enrolment.METHODS)}, got {options.method!r}"
        raise InvalidInputError(msg)
    if options.mode not in geography.costs:
        msg = f"mode must be one of {', '.join(geography.costs)}, got {options.mode!r}"
        raise InvalidInputError(msg)
    started = time.perf_counter()
    classes = options.default_first_grade_classes
    seats = enrolment.first_grade_seats(
        [s.first_grade_classes for s in geography.schools],
        [s.class_size_cap for s in geography.schools],
        default_classes=geography.manifest.default_first_grade_classes
        if classes is None
        else classes,
    )
    cost = geography.costs[options.mode].distance_m
    children = geography.points["children"].to_numpy(dtype=np.float64)
    zone_cost = cost if allowed is None else np.where(allowed, cost, np.inf)
    with enrolment_errors():
        zoning = _zone(geography, options, cost=zone_cost, children=children, seats=seats.seats)
    statistics = enrolment.zone_statistics(
        zoning, cost_m=cost, costs=[geography.costs[m] for m in REPORTED_MODES]
    )
    polygons = enrolment.zone_polygons(
        geography.points,
        zoning.school,
        boundary=geography.boundary,
        wards=geography.wards[["ward_code", "geometry"]],
        school_ids=[s.code for s in geography.schools],
    )
    return ZoningResult(
        options=options,
        geography=geography,
        seats=seats,
        zoning=zoning,
        statistics=statistics,
        zones=_valid_wgs84(polygons),
        seconds=time.perf_counter() - started,
    )


def _valid_wgs84(zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return zones in EPSG:4326, repaired where reprojection made a ring touch itself."""
    projected = to_wgs84(zones)
    repaired = []
    for shape in projected.geometry:
        parts = shapely.get_parts(shapely.get_parts(shapely.make_valid(shape)))
        repaired.append(MultiPolygon([p for p in parts if isinstance(p, Polygon) and p.area > 0]))
    return projected.set_geometry(gpd.GeoSeries(repaired, index=projected.index, crs=WGS84))


def _zone(
    geography: Geography,
    options: ZoningOptions,
    *,
    cost: npt.NDArray[np.float64],
    children: npt.NDArray[np.float64],
    seats: npt.NDArray[np.float64],
) -> enrolment.Zoning:
    neighbours = geography.neighbours
    if options.method == "ward":
        return enrolment.ward_zones(
            cost,
            children=children,
            seats=seats,
            point_ward=geography.points["ward_code"].astype(str).tolist(),
            school_ward=[s.ward_code for s in geography.schools],
            neighbours=neighbours,
            fallback_m=geography.straight_m,
        )
    if options.method == "nearest":
        return enrolment.nearest_zones(cost, children=children, seats=seats, neighbours=neighbours)
    return enrolment.optimal_zones(
        cost,
        children=children,
        seats=seats,
        neighbours=neighbours if options.contiguity else None,
        solver=options.solver,
        fallback_m=geography.straight_m,
    )


@dataclass(frozen=True, slots=True, eq=False)
class Comparison:
    """The three methods side by side."""

    results: tuple[ZoningResult, ...]
    table: pd.DataFrame
    schools: pd.DataFrame

    def to_json(self) -> dict[str, Any]:
        """Return the comparison as JSON-ready values."""
        first = self.results[0]
        return {
            "district_code": first.geography.district_net.district.code,
            "computed_at": dt.datetime.now(dt.UTC).isoformat(),
            "seats_note": first.seats.describe(),
            "methods": {
                r.options.method: {
                    "options": r.options.to_json(),
                    "seconds": round(r.seconds, 3),
                    "inputs_hash": r.inputs_hash(),
                    **r.statistics_json(),
                }
                for r in self.results
            },
            "table": {
                str(method): {str(k): _round(float(v)) for k, v in column.items()}
                for method, column in self.table.items()
            },
        }


def compare_methods(
    geography: Geography,
    options: ZoningOptions,
    *,
    progress: Callable[[str], None] | None = None,
) -> Comparison:
    """Compute every method with the same inputs and put their figures side by side."""
    results = []
    for method in enrolment.METHODS:
        if progress is not None:
            progress(method)
        results.append(compute_zoning(geography, _replace(options, method=method)))
    stats = [r.statistics for r in results]
    return Comparison(
        results=tuple(results),
        table=enrolment.comparison_table(stats),
        schools=enrolment.school_table(stats, [s.code for s in geography.schools]),
    )


def _replace(options: ZoningOptions, *, method: str) -> ZoningOptions:
    return dataclasses.replace(options, method=method)


def default_version_name(method: str, when: dt.datetime | None = None) -> str:
    """Return a version name such as ``optimal-2026-09-01T08-30-00Z``."""
    moment = (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    return f"{method}-{moment.strftime('%Y-%m-%dT%H-%M-%SZ')}"
