"""A district's geography for zoning: where its first-graders live, how far each school is.

This is where the pure parts meet: the registry gives the wards, their population and the
open primary schools; a district's ``zoning.toml`` manifest names the census table and the
OSM extract with buildings; :mod:`routing` turns demand points and schools into network
cost matrices; :mod:`enrolment` makes the cohort and the demand points. These expensive
inputs (the OSM read, the demand points, the cost matrices, the neighbour pairs) are cached
per district state in :class:`ZoningCache`, so that zones computed with other options
(:mod:`gis_service.zones.compute`) reuse them.
"""

from __future__ import annotations

import hashlib
import threading
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import CRS
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

import enrolment
import routing
from gis_service.core_errors import routing_errors
from gis_service.crs import WGS84, to_metric
from gis_service.db import repository
from gis_service.errors import InvalidInputError, NotFoundError
from gis_service.networks import DistrictNetwork
from gis_service.records import SchoolData, WardRecord
from gis_service.settings import BUNDLED_DISTRICT_DIR
from gis_service.text import normalize_text
from gis_service.vocabulary import FIRST_GRADE_LEVELS

ZONING_MANIFEST = "zoning.toml"
#: School levels that admit first-graders.
#: Travel modes whose distances and times are reported.
REPORTED_MODES = ("walk", "motorbike")
#: Demand points farther apart than this are never neighbours, metres.
MAX_LINK_M = 400.0
_AGE_GROUPS = (
    "0_04", "05_09", "10_14", "15_19", "20_24", "25_29", "30_34", "35_39", "40_44",
    "45_49", "50_54", "55_59", "60_64", "65_69", "70_74", "75_79", "80_84",
)  # fmt: skip


def bundled_zoning_manifest() -> Path:
    """Return the zoning manifest of the bundled district (Quận 3)."""
    return BUNDLED_DISTRICT_DIR / ZONING_MANIFEST


@dataclass(frozen=True, slots=True)
class ZoningManifest:
    """The files and assumptions a district's zones are computed from."""

    path: Path
    sha256: str
    district_code: str
    census_file: Path
    census_province: str
    census_district: str
    age: int
    split_method: str
    census_source: str
    residential_file: Path | None
    residential_source: str
    cell_size_m: float
    min_footprint_share: float
    default_first_grade_classes: int
    seats_source: str


def read_zoning_manifest(path: Path) -> ZoningManifest:
    """Read a district's ``zoning.toml``.

    Raises
    ------
    NotFoundError
        If the file does not exist.
    InvalidInputError
        If it is not valid TOML or misses a value.
    """
    if not path.is_file():
        msg = f"no zoning manifest {path}"
        raise NotFoundError(msg)
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        msg = f"{path}: not a valid TOML file ({error})"
        raise InvalidInputError(msg) from None

    def value(section: str, key: str, default: Any = None) -> Any:
        found = data.get(section, {}).get(key, default)
        if found is None:
            msg = f"{path}: [{section}] {key} is missing"
            raise InvalidInputError(msg)
        return found

    residential = data.get("residential", {}).get("file")
    return ZoningManifest(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        district_code=str(value("zoning", "district_code")),
        census_file=path.parent / str(value("census_age_groups", "file")),
        census_province=normalize_text(str(value("census_age_groups", "province"))),
        census_district=normalize_text(str(value("census_age_groups", "district"))),
        age=int(value("census_age_groups", "age", enrolment.FIRST_GRADE_AGE)),
        split_method=str(value("census_age_groups", "split_method", "sprague")),
        census_source=str(value("census_age_groups", "source", "census")),
        residential_file=None if residential is None else path.parent / str(residential),
        residential_source=str(value("residential", "source", "")),
        cell_size_m=float(value("residential", "cell_size_m", 100.0)),
        min_footprint_share=float(value("residential", "min_footprint_share", 0.25)),
        default_first_grade_classes=int(
            value("seats", "default_first_grade_classes", enrolment.DEFAULT_FIRST_GRADE_CLASSES)
        ),
        seats_source=str(value("seats", "source", "assumption")),
    )


@dataclass(frozen=True, slots=True, eq=False)
class Geography:
    """Where the district's first-graders live and how far they are from each school.

    Attributes
    ----------
    district_net
        The district with its road network.
    manifest
        The zoning manifest used.
    wards
        Wards with ``ward_code``, ``name``, ``population``, ``children`` (metric CRS).
    cohort
        The cohort estimate.
    schools
        Open first-grade schools, in the order of the cost matrices' columns.
    points
        Demand points (metric CRS).
    costs
        Cost matrices per mode.
    straight_m
        Straight-line distances from points to schools (metres): they zone the points
        with no network route to any school (reported as such).
    neighbours
        Neighbour pairs of demand points (close in the plane and on the network).
    boundary
        The district boundary (metric CRS).
    unreachable
        Reason per demand point that reaches no school by walking (``"ok"`` otherwise).
    seconds
        Time spent building each part.
    """

    district_net: DistrictNetwork
    manifest: ZoningManifest
    wards: gpd.GeoDataFrame
    cohort: enrolment.CohortEstimate
    schools: tuple[SchoolData, ...]
    points: gpd.GeoDataFrame
    costs: Mapping[str, enrolment.TravelCosts]
    straight_m: npt.NDArray[np.float64]
    neighbours: npt.NDArray[np.int64]
    boundary: BaseGeometry
    unreachable: tuple[str, ...]
    seconds: Mapping[str, float] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """Return the inputs as JSON-ready values (stored with every zone version)."""
        sources = self.points.groupby("ward_code")["source"].first().to_dict()
        reasons = pd.Series(self.unreachable).value_counts().drop("ok", errors="ignore")
        return {
            "district_code": self.district_net.district.code,
            "road_extract": {
                "file": self.district_net.extract.file_name,
                "sha256": self.district_net.extract.sha256,
            },
            "manifest": {"file": self.manifest.path.name, "sha256": self.manifest.sha256},
            "census": {
                "file": self.manifest.census_file.name,
                "province": self.manifest.census_province,
                "district": self.manifest.census_district,
                "source": self.manifest.census_source,
                "age": self.cohort.age,
                "split_method": self.cohort.method,
                "district_children": round(self.cohort.district_children, 3),
                "district_population": self.cohort.district_population,
            },
            "wards": [
                {
                    "code": str(row.ward_code),
                    "population": float(row.population),
                    "children": round(float(row.children), 3),
                    "demand_source": sources.get(str(row.ward_code)),
                }
                for row in self.wards.itertuples()
            ],
            "residential": {
                "file": None
                if self.manifest.residential_file is None
                else self.manifest.residential_file.name,
                "source": self.manifest.residential_source,
                "cell_size_m": self.manifest.cell_size_m,
                "min_footprint_share": self.manifest.min_footprint_share,
            },
            "demand_points": len(self.points),
            "unreachable_points": {str(k): int(v) for k, v in reasons.items()},
            "schools": [
                {
                    "code": s.code,
                    "name": s.name,
                    "lon": s.lon,
                    "lat": s.lat,
                    "ward_code": s.ward_code,
                    "first_grade_classes": s.first_grade_classes,
                    "class_size_cap": s.class_size_cap,
                }
                for s in self.schools
            ],
        }


def _ward_frame(wards: Sequence[WardRecord], crs: CRS) -> gpd.GeoDataFrame:
    missing = [w.code for w in wards if w.population is None]
    if missing:
        msg = f"wards {', '.join(missing)} have no population: zones need it"
        raise InvalidInputError(msg)
    frame = gpd.GeoDataFrame(
        {
            "ward_code": [w.code for w in wards],
            "name": [w.name for w in wards],
            "population": [float(w.population or 0) for w in wards],
        },
        geometry=[w.boundary for w in wards],
        crs=WGS84,
    )
    return to_metric(frame, crs)


def census_age_groups(manifest: ZoningManifest) -> tuple[list[float], float]:
    """Return the district's closed 5-year age groups (0-4 .. 80-84) and total population.

    Raises
    ------
    InvalidInputError
        If the table cannot be read or has no single row for the district.
    """
    try:
        table = pd.read_csv(manifest.census_file)
    except OSError as error:
        msg = f"{manifest.path}: cannot read the census table {manifest.census_file}: {error}"
        raise InvalidInputError(msg) from None
    rows = table[
        (table["province"].map(normalize_text) == manifest.census_province)
        & (table["district"].map(normalize_text) == manifest.census_district)
    ]
    if len(rows) != 1:
        msg = (
            f"{manifest.census_file.name}: expected one row for {manifest.census_district}, "
            f"{manifest.census_province}; found {len(rows)}"
        )
        raise InvalidInputError(msg)
    row = rows.iloc[0]
    return [float(row[f"total_{group}"]) for group in _AGE_GROUPS], float(row["total"])


def _residential(
    manifest: ZoningManifest, district_net: DistrictNetwork
) -> tuple[gpd.GeoSeries, gpd.GeoSeries, gpd.GeoSeries]:
    """Homes, residential land use and streets in the network's CRS."""
    crs = district_net.network.crs
    if manifest.residential_file is not None and manifest.residential_file.is_file():
        import osmnx as ox

        features = ox.features_from_xml(
            manifest.residential_file, tags={"building": True, "landuse": True, "highway": True}
        )
        homes, landuse, streets = enrolment.residential_features(features.to_crs(crs))
        return homes, landuse, streets
    edges = district_net.network.edges_frame()
    once = (district_net.network.edge_twin < 0) | (
        district_net.network.edge_twin > np.arange(len(edges))
    )
    keep = once & ~edges["ferry"].to_numpy()
    keep &= ~edges["highway"].isin(enrolment.demand.NON_RESIDENTIAL_HIGHWAYS).to_numpy()
    empty = gpd.GeoSeries([], crs=crs)
    return empty, empty, gpd.GeoSeries(edges.geometry[keep].to_numpy(), crs=crs)


def points_xy(points: gpd.GeoDataFrame) -> npt.NDArray[np.float64]:
    """Return the ``(n, 2)`` x, y of point geometries (in their CRS)."""
    return np.column_stack([points.geometry.x.to_numpy(), points.geometry.y.to_numpy()])


def straight_distances(
    xy: npt.NDArray[np.float64], schools_xy: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Return the ``(n_points, n_schools)`` straight-line distances, metres."""
    return np.hypot(
        xy[:, None, 0] - schools_xy[None, :, 0], xy[:, None, 1] - schools_xy[None, :, 1]
    )


def _network_neighbours(
    network: routing.RoadNetwork, points: gpd.GeoDataFrame
) -> npt.NDArray[np.int64]:
    """Neighbour pairs of demand points that are also close on the walking network."""
    pairs = enrolment.neighbour_pairs(points, max_link_m=MAX_LINK_M)
    if pairs.size == 0:
        return pairs
    xy = points_xy(points)
    limit = enrolment.contiguity.DEFAULT_MAX_DETOUR * MAX_LINK_M
    limit += enrolment.contiguity.DEFAULT_DETOUR_SLACK_M
    matrix = routing.cost_matrix(network, "walk", origins=xy, destinations=xy, cutoff=limit)
    origin, destination = matrix.pairs()
    n = len(points)
    keys = origin * n + destination
    order = np.argsort(keys)
    keys, lengths = keys[order], matrix.length_m[order]

    def lookup(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        wanted = a * n + b
        at = np.clip(np.searchsorted(keys, wanted), 0, max(len(keys) - 1, 0))
        found = (keys[at] == wanted) if len(keys) else np.zeros(len(wanted), dtype=bool)
        return np.where(found, lengths[at] if len(keys) else np.inf, np.inf)

    network_m = np.minimum(lookup(pairs[:, 0], pairs[:, 1]), lookup(pairs[:, 1], pairs[:, 0]))
    straight = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
    return enrolment.keep_network_neighbours(pairs, straight_m=straight, network_m=network_m)


def first_grade_schools(session: Session, district_code: str) -> list[SchoolData]:
    """Return the district's open schools that admit first-graders, by code."""
    where = repository.SchoolFilter(district_code=district_code, status="open")
    records, _ = repository.list_schools(session, where)
    schools = [r.data for r in records if r.data.level in FIRST_GRADE_LEVELS]
    return sorted(schools, key=lambda s: s.code)


def build_geography(
    session: Session, district_net: DistrictNetwork, manifest: ZoningManifest
) -> Geography:
    """Build the cohort, demand points, cost matrices and neighbours of a district.

    Raises
    ------
    NotFoundError
        If the district has no open first-grade school.
    InvalidInputError
        If the manifest does not describe this district or its files are unusable.
    """
    district = district_net.district
    if manifest.district_code != district.code:
        msg = f"{manifest.path} describes district {manifest.district_code}, not {district.code}"
        raise InvalidInputError(msg)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    schools = first_grade_schools(session, district.code)
    if not schools:
        msg = f"district {district.code} has no open first-grade (primary) school"
        raise NotFoundError(msg)
    crs = CRS.from_user_input(district_net.network.crs)
    wards = _ward_frame(repository.list_wards(session, district.code), crs)
    groups, total = census_age_groups(manifest)
    cohort = enrolment.first_grade_cohort(
        wards["ward_code"],
        wards["population"],
        district_age_groups=groups,
        district_population=total,
        age=manifest.age,
        method=manifest.split_method,  # type: ignore[arg-type]
    )
    wards = wards.assign(children=cohort.children)
    timings["cohort"] = time.perf_counter() - started
    started = time.perf_counter()
    homes, landuse, streets = _residential(manifest, district_net)
    points = enrolment.demand_points(
        wards[["ward_code", "children", "geometry"]],
        buildings=homes,
        landuse=landuse,
        roads=streets,
        cell_size_m=manifest.cell_size_m,
        min_footprint_share=manifest.min_footprint_share,
    )
    timings["demand_points"] = time.perf_counter() - started
    started = time.perf_counter()
    xy = points_xy(points)
    schools_xy = district_net.schools_xy(schools)
    straight = straight_distances(xy, schools_xy)
    costs: dict[str, enrolment.TravelCosts] = {}
    unreachable: tuple[str, ...] = ()
    with routing_errors():
        for mode in REPORTED_MODES:
            matrix = routing.cost_matrix(
                district_net.network, mode, origins=xy, destinations=schools_xy
            )
            costs[mode] = enrolment.TravelCosts(
                mode, matrix.dense("length_m"), matrix.dense("travel_time_s")
            )
            if mode == "walk":
                unreachable = tuple(routing.ORIGIN_STATUS[int(s)] for s in matrix.origin_status)
        timings["cost_matrices"] = time.perf_counter() - started
        started = time.perf_counter()
        neighbours = _network_neighbours(district_net.network, points)
    timings["neighbours"] = time.perf_counter() - started
    return Geography(
        district_net=district_net,
        manifest=manifest,
        wards=wards,
        cohort=cohort,
        schools=tuple(schools),
        points=points,
        costs=costs,
        straight_m=straight,
        neighbours=neighbours,
        boundary=district_net.boundary_metric(),
        unreachable=unreachable,
        seconds=timings,
    )


def _geography_key(
    session: Session, district_net: DistrictNetwork, manifest: ZoningManifest
) -> tuple[Any, ...]:
    schools = first_grade_schools(session, district_net.district.code)
    wards = repository.list_wards(session, district_net.district.code)
    return (
        district_net.district.code,
        district_net.extract.sha256,
        manifest.sha256,
        tuple((s.code, s.lon, s.lat) for s in schools),
        tuple((w.code, w.population, w.boundary.wkb_hex) for w in wards),
    )


class ZoningCache:
    """Each district's :class:`Geography`, kept until the district's inputs change."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: dict[tuple[Any, ...], Geography] = {}

    def geography(
        self, session: Session, district_net: DistrictNetwork, manifest: ZoningManifest
    ) -> Geography:
        """Return the district's geography, building it on first use or after a change."""
        key = _geography_key(session, district_net, manifest)
        with self._lock:
            if key not in self._built:
                self._built = {
                    k: v for k, v in self._built.items() if k[0] != district_net.district.code
                }
                self._built[key] = build_geography(session, district_net, manifest)
            return self._built[key]
