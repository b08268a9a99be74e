"""The service's road networks: each district's registered OSM extract, built once, cached.

The extract registered by ``schoolgis district load`` lives at
``<networks_dir>/<district code>/<file name>``; its routing network is cached beside it in
``<networks_dir>/<district code>/cache/`` (see :mod:`routing.cache`) and held in memory
after first use. This module also turns what users send (``lat``, ``lon`` in EPSG:4326)
into metric points inside the district, and routing errors into service errors.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS
from shapely import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

import routing
from gis_service.crs import WGS84, to_metric
from gis_service.db import repository
from gis_service.errors import FieldProblem, InvalidInputError, NotFoundError, StoreError
from gis_service.records import DistrictRecord, RoadNetworkRecord, SchoolData
from gis_service.settings import Settings


@dataclass(frozen=True, slots=True)
class DistrictNetwork:
    """A district with its routing network.

    Attributes
    ----------
    district
        The district (boundary in EPSG:4326).
    extract
        The registered OSM extract the network was built from.
    network
        The routing network, in the district's metric CRS.
    """

    district: DistrictRecord
    extract: RoadNetworkRecord
    network: routing.RoadNetwork

    def to_metric(self, lon: float, lat: float) -> tuple[float, float]:
        """Return the network coordinates (metres) of an EPSG:4326 point."""
        x, y = self.network.lonlat_to_xy([lon], [lat])
        return float(x[0]), float(y[0])

    def schools_xy(self, schools: list[SchoolData]) -> npt.NDArray[np.float64]:
        """Return the ``(n, 2)`` network coordinates of schools."""
        x, y = self.network.lonlat_to_xy([s.lon for s in schools], [s.lat for s in schools])
        return np.column_stack([x, y]).reshape(-1, 2)

    def boundary_metric(self) -> BaseGeometry:
        """Return the district boundary in the network's metric CRS."""
        series = gpd.GeoSeries([self.district.boundary], crs=WGS84)
        geometry: BaseGeometry = to_metric(series, CRS.from_user_input(self.network.crs)).iloc[0]
        return geometry


def build_options(district: DistrictRecord) -> routing.BuildOptions:
    """Return the network build options of a district (its metric CRS, default modes)."""
    return routing.BuildOptions(crs=f"EPSG:{district.metric_epsg}")


class NetworkCache:
    """The road networks of the service's districts, each loaded on first use.

    Parameters
    ----------
    settings
        Where the registered extracts live (``settings.networks_dir``).
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, str], DistrictNetwork] = {}

    def extract_path(self, extract: RoadNetworkRecord) -> Path:
        """Return where a registered extract is stored."""
        return self._settings.networks_dir / extract.district_code / extract.file_name

    def cache_dir(self, district_code: str) -> Path:
        """Return the folder of a district's cached networks."""
        return self._settings.networks_dir / district_code / "cache"

    def for_district(
        self,
        session: Session,
        district_code: str | None = None,
        *,
        rebuild: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> DistrictNetwork:
        """Return the district's network, from memory, from the disk cache, or built.

        Parameters
        ----------
        session
            A session on the registry.
        district_code
            The district; ``None`` for the only district of the store.
        rebuild
            Build from the extract even if a cached network exists.
        progress
            Called with each step name of :data:`routing.cache.LOAD_STEPS`.

        Raises
        ------
        NotFoundError
            If the district does not exist or has no registered road extract.
        StoreError
            If the registered extract is missing, changed, or unusable.
        """
        district = repository.get_district(session, district_code)
        extracts = repository.road_networks(session, district.code)
        if not extracts:
            msg = (
                f"district {district.code} has no registered road extract: "
                "run `schoolgis district load` with a [roads] file"
            )
            raise NotFoundError(msg)
        extract = extracts[0]
        key = (district.code, extract.sha256)
        with self._lock:
            if key in self._loaded and not rebuild:
                return self._loaded[key]
            network = self._load(district, extract, rebuild=rebuild, progress=progress)
            loaded = DistrictNetwork(district=district, extract=extract, network=network)
            self._loaded[key] = loaded
            return loaded

    def _load(
        self,
        district: DistrictRecord,
        extract: RoadNetworkRecord,
        *,
        rebuild: bool,
        progress: Callable[[str], None] | None,
    ) -> routing.RoadNetwork:
        path = self.extract_path(extract)
        if not path.is_file():
            msg = (
                f"the road extract of district {district.code} is registered but missing: "
                f"{path.name}"
            )
            raise StoreError(msg)
        try:
            network = routing.load_network(
                path,
                cache_dir=self.cache_dir(district.code),
                options=build_options(district),
                rebuild=rebuild,
                progress=progress,
            )
        except routing.NetworkDataError as error:
            msg = f"the road extract of district {district.code} is unusable: {error}"
            raise StoreError(msg) from None
        if network.source_sha256 != extract.sha256:
            msg = (
                f"{path.name} changed since it was registered (sha256 {network.source_sha256[:12]} "
                f"!= {extract.sha256[:12]}): load the district again"
            )
            raise StoreError(msg)
        return network


def parse_lat_lon(value: str, *, pointer: str) -> tuple[float, float]:
    """Return ``(lat, lon)`` from text such as ``"10.78,106.68"``.

    Raises
    ------
    InvalidInputError
        If the text is not two numbers separated by a comma.
    """
    parts = value.split(",")
    try:
        lat, lon = (float(part) for part in parts)
    except ValueError:
        msg = f"{pointer.rsplit(':', 1)[-1]} must be 'lat,lon' in degrees, got {value!r}"
        raise InvalidInputError(msg, problems=[FieldProblem(pointer, msg)]) from None
    return lat, lon


#: Points this close to the district's boundary line count as on it, in degrees: floating-point
#: rounding of a point on the line, not a distance anyone could measure (about 0.1 mm).
_ON_BOUNDARY_DEG = 1e-9


def _in_district(district: DistrictRecord, lon: float, lat: float) -> bool:
    """Whether ``(lon, lat)`` is inside the district or on its boundary line."""
    return bool(shapely.dwithin(district.boundary, Point(lon, lat), _ON_BOUNDARY_DEG))


def _in_range(lat: float, lon: float) -> bool:
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def check_point(
    district: DistrictRecord, *, lat: float, lon: float, pointer: str
) -> tuple[float, float]:
    """Return ``(lon, lat)`` of a user's point after checking it lies in the district.

    Parameters
    ----------
    district
        The district the point must be in.
    lat, lon
        The point in EPSG:4326 degrees, as sent.
    pointer
        Where the point came from, for the problem report (``"query:from"``).

    Raises
    ------
    InvalidInputError
        If a coordinate is not finite or out of range, the point is outside the district,
        or latitude and longitude look swapped (the swapped point is in the district).
    """

    def fail(detail: str) -> InvalidInputError:
        return InvalidInputError(detail, problems=[FieldProblem(pointer, detail)])

    if not (math.isfinite(lat) and math.isfinite(lon)):
        msg = f"latitude and longitude must be finite numbers, got lat={lat}, lon={lon}"
        raise fail(msg)
    swapped = _in_range(lon, lat) and _in_district(district, lat, lon)
    if swapped and not _in_district(district, lon, lat):
        msg = (
            f"latitude and longitude look swapped: lat={lat}, lon={lon} is not in "
            f"{district.name}, but lat={lon}, lon={lat} is; send latitude first"
        )
        raise fail(msg)
    if not _in_range(lat, lon):
        msg = (
            f"coordinates out of range: lat={lat} must be in [-90, 90] and lon={lon} in "
            "[-180, 180] (EPSG:4326 degrees)"
        )
        raise fail(msg)
    if not _in_district(district, lon, lat):
        msg = (
            f"the point lat={lat}, lon={lon} is outside {district.name} (district {district.code})"
        )
        raise fail(msg)
    return lon, lat
