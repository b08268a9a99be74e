"""The public web map of a stored district: registry, zones and base layer in, page out.

The page itself is drawn by :mod:`maps.pages`; this module gathers what it shows from
the registry (open schools, wards, the published zones with their free seats) and builds
the bundled base layer once per road extract: roads from the routing network, water from
the OpenStreetMap file named in the district's map manifest (``map.toml`` next to the
district's files; the bundled one is ``data/hcmc-district3/map.toml``).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brotli
import geopandas as gpd
import numpy as np
from shapely.geometry import mapping
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gis_service.db import repository, zones_repository
from gis_service.db.models import RoadNetwork, School, SchoolHistory, Ward, ZoneVersion
from gis_service.errors import InvalidInputError, NotFoundError
from gis_service.geojson import round_coordinates, zone_feature
from gis_service.networks import DistrictNetwork, NetworkCache
from gis_service.records import DistrictRecord
from gis_service.settings import BUNDLED_DISTRICT_DIR, Settings
from maps.basemap import BASEMAP_DECIMALS, BaseLayer, road_layer, water_layer
from maps.pages import PublicMapData, TileLayer

MAP_MANIFEST = "map.toml"
#: Water outside the district is drawn this far from its boundary, metres.
WATER_MARGIN_M = 400.0


@dataclass(frozen=True, slots=True)
class MapManifest:
    """The base-map inputs of a district."""

    path: Path
    district_code: str
    water_file: Path | None


def bundled_map_manifest() -> Path:
    """Return the map manifest of the bundled district (Quận 3)."""
    return BUNDLED_DISTRICT_DIR / MAP_MANIFEST


def read_map_manifest(path: Path) -> MapManifest:
    """Read a district's ``map.toml``.

    Raises
    ------
    NotFoundError
        If the file does not exist.
    InvalidInputError
        If it is not valid TOML or misses the district code.
    """
    if not path.is_file():
        msg = f"no map manifest {path}"
        raise NotFoundError(msg)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        msg = f"{path}: not a valid TOML file ({error})"
        raise InvalidInputError(msg) from None
    code = data.get("map", {}).get("district_code")
    if not isinstance(code, str):
        msg = f"{path}: [map] district_code is missing"
        raise InvalidInputError(msg)
    water = data.get("water", {})
    return MapManifest(
        path=path,
        district_code=code,
        water_file=path.parent / water["file"] if "file" in water else None,
    )


def _water(manifest: MapManifest, district_net: DistrictNetwork) -> dict[str, Any]:
    import osmnx as ox

    if manifest.water_file is None:
        return {"type": "FeatureCollection", "features": []}
    features = ox.features_from_xml(
        manifest.water_file, tags={"natural": "water", "waterway": True}
    )
    lines_and_areas = features[features.geom_type != "Point"]
    water = gpd.GeoSeries(lines_and_areas.geometry.to_numpy(), crs=features.crs)
    clip = district_net.boundary_metric().buffer(WATER_MARGIN_M)
    return water_layer(water.to_crs(district_net.network.crs), clip=clip)


def street_points(district_net: DistrictNetwork) -> list[dict[str, Any]]:
    """Return each named street once, with the midpoint of its longest piece (EPSG:4326)."""
    edges = district_net.network.edges_frame()
    named = edges[edges["name"].notna()]
    longest = named.loc[named.groupby("name")["length_m"].idxmax()]
    middles = longest.geometry.interpolate(0.5, normalized=True)
    lon, lat = district_net.network.xy_to_lonlat(middles.x.to_numpy(), middles.y.to_numpy())
    streets = [
        {
            "name": str(name),
            "lon": round(float(x), BASEMAP_DECIMALS),
            "lat": round(float(y), BASEMAP_DECIMALS),
        }
        for name, x, y in zip(longest["name"], lon, lat, strict=True)
    ]
    return sorted(streets, key=lambda s: str(s["name"]))


@dataclass(frozen=True, slots=True)
class _Background:
    basemap: BaseLayer
    streets: list[dict[str, Any]]


class MapBackgrounds:
    """The base layer and street list of each district, built once per road extract."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: dict[tuple[str, str], _Background] = {}

    def for_district(self, district_net: DistrictNetwork) -> _Background:
        """Return the district's base layer and streets (built on first use)."""
        key = (district_net.district.code, district_net.extract.sha256)
        with self._lock:
            if key not in self._built:
                self._built[key] = self._build(district_net)
            return self._built[key]

    @staticmethod
    def _build(district_net: DistrictNetwork) -> _Background:
        manifest = read_map_manifest(bundled_map_manifest())
        if manifest.district_code == district_net.district.code:
            water = _water(manifest, district_net)
        else:
            water = {"type": "FeatureCollection", "features": []}
        edges = district_net.network.edges_frame()
        once = (district_net.network.edge_twin < 0) | (
            district_net.network.edge_twin > np.arange(len(edges))
        )
        roads = road_layer(edges[once & ~edges["ferry"].to_numpy()])
        return _Background(
            basemap=BaseLayer(roads=roads, water=water),
            streets=street_points(district_net),
        )


def _school_entries(
    session: Session, district: DistrictRecord, zones: dict[str, Any] | None
) -> list[dict[str, Any]]:
    free: dict[str, dict[str, Any]] = {}
    for feature in (zones or {}).get("features", []):
        properties = feature["properties"]
        if properties["school_code"] is not None:
            free[properties["school_code"]] = properties
    where = repository.SchoolFilter(district_code=district.code, status="open")
    records, _ = repository.list_schools(session, where)
    entries = []
    for record in records:
        school = record.data
        zone = free.get(school.code, {})
        seats = zone.get("first_grade_seats", school.first_grade_seats)
        entries.append(
            {
                "code": school.code,
                "name": school.name,
                "level": school.level,
                "lon": round(school.lon, BASEMAP_DECIMALS + 1),
                "lat": round(school.lat, BASEMAP_DECIMALS + 1),
                "address": school.address,
                "phone": school.phone,
                "email": school.email,
                "website": school.website,
                "first_grade_seats": None if seats is None else round(seats),
                "free_first_grade_seats": zone.get("free_first_grade_seats"),
                "seats_assumed": zone.get("seats_assumed", False),
            }
        )
    return entries


def public_map_data(
    session: Session,
    networks: NetworkCache,
    backgrounds: MapBackgrounds,
    *,
    district_code: str | None,
) -> PublicMapData:
    """Gather what the public map of a district shows, from the live registry.

    A district without a road extract gets no base roads and no street search; one without
    published zones gets no zone layer (the panel then says so).
    """
    district = repository.get_district(session, district_code)
    version = zones_repository.published_zone_version(session, district.code)
    zones = None
    zone_version = None
    if version is not None:
        stored = zones_repository.zones_of(session, version.id)
        zones = {
            "type": "FeatureCollection",
            "features": [zone_feature(z) for z in stored if z.school_code is not None],
        }
        zone_version = {
            "id": version.id,
            "name": version.name,
            "method": version.method,
            "published_at": None if version.published_at is None else str(version.published_at),
        }
    wards = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": w.code, "name": w.name},
                "geometry": _rounded_geometry(w.boundary),
            }
            for w in repository.list_wards(session, district.code)
        ],
    }
    background = None
    # the base map's sources: the road extract (OpenStreetMap's credit) and the boundaries
    sources = [district.source]
    extracts = repository.road_networks(session, district.code)
    if extracts:
        background = backgrounds.for_district(networks.for_district(session, district.code))
        sources.insert(0, extracts[0].source)
    min_lon, min_lat, max_lon, max_lat = district.boundary.bounds
    return PublicMapData(
        district_code=district.code,
        district_name=district.name,
        bounds=(min_lon, min_lat, max_lon, max_lat),
        schools=_school_entries(session, district, zones),
        wards=wards,
        zones=zones,
        zone_version=zone_version,
        streets=[] if background is None else background.streets,
        basemap=None if background is None else background.basemap,
        attribution=tuple(dict.fromkeys(sources)),
    )


def _rounded_geometry(geometry: Any) -> dict[str, Any]:
    shape = dict(mapping(geometry))
    shape["coordinates"] = round_coordinates(shape["coordinates"], BASEMAP_DECIMALS)
    return shape


def tile_layer(settings: Settings) -> TileLayer | None:
    """Return the configured online tile layer, if any."""
    if settings.map_tile_url is None:
        return None
    return TileLayer(url=settings.map_tile_url, attribution=settings.map_tile_attribution)


def map_state(session: Session) -> tuple[object, ...]:
    """Return a fingerprint of what the map shows: it changes whenever the page would.

    One cheap query: the published zone versions, the schools (count, last change, last
    history entry), the wards and the road extracts.
    """
    published = (
        select(func.max(ZoneVersion.id), func.max(ZoneVersion.published_at))
        .where(ZoneVersion.status == "published")
        .subquery()
    )
    row = session.execute(
        select(
            published,
            select(func.count(School.id)).scalar_subquery(),
            select(func.max(School.updated_at)).scalar_subquery(),
            select(func.max(SchoolHistory.id)).scalar_subquery(),
            select(func.count(Ward.id)).scalar_subquery(),
            select(func.max(RoadNetwork.id)).scalar_subquery(),
        )
    ).one()
    return tuple(str(value) for value in row)


@dataclass(frozen=True, slots=True)
class CachedPage:
    """A page drawn once, with its gzip and brotli bodies compressed once.

    Attributes
    ----------
    etag
        The strong entity tag of the page (a hash of its HTML).
    bodies
        The page by content coding: ``identity``, ``gzip`` and ``br``.
    """

    etag: str
    bodies: dict[str, bytes]

    @classmethod
    def of(cls, html: str) -> CachedPage:
        """Return the page ``html`` with its tag and compressed bodies."""
        raw = html.encode("utf-8")
        return cls(
            etag=f'"{hashlib.sha256(raw).hexdigest()[:32]}"',
            bodies={
                "identity": raw,
                "gzip": gzip.compress(raw, compresslevel=9, mtime=0),
                "br": brotli.compress(raw, mode=brotli.MODE_TEXT, quality=11),
            },
        )

    def encoded(self, accept_encoding: str) -> tuple[str, bytes]:
        """Return the coding the client accepts that is smallest (brotli, gzip, none)."""
        accepted = _accepted_codings(accept_encoding)
        for coding in ("br", "gzip"):
            if coding in accepted:
                return coding, self.bodies[coding]
        return "identity", self.bodies["identity"]


def _accepted_codings(header: str) -> set[str]:
    """Return the content codings ``Accept-Encoding`` allows (``q=0`` refuses one)."""
    accepted = set()
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        quality = params.strip().removeprefix("q=").strip()
        try:
            refused = params.strip().startswith("q=") and float(quality) == 0
        except ValueError:
            refused = False
        if name and not refused:
            accepted.add(name.strip().lower())
    return accepted


class CachedAnswers:
    """Answers drawn once per state of the map (see :func:`map_state`), each under its key.

    The map pages (``("public", *state)``) and the published zones (``("zones", *state)``).
    """

    #: States kept at once; an older one is dropped when a new one is drawn.
    KEPT = 8

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pages: dict[tuple[object, ...], CachedPage] = {}

    def drawn(self, key: tuple[object, ...], draw: Callable[[], str]) -> CachedPage:
        """Return the answer of ``key``, drawing it with ``draw`` the first time."""
        with self._lock:
            if key not in self._pages:
                if len(self._pages) >= self.KEPT:
                    self._pages.pop(next(iter(self._pages)))
                self._pages[key] = CachedPage.of(draw())
            return self._pages[key]
