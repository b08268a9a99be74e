"""Demand points: where a ward's children of first-grade age live, as weighted points.

Method
------
Each ward's children (from :mod:`enrolment.cohort`) are spread over the ward's
residential area, cut into square cells of ``cell_size_m`` aligned on multiples of the
cell size in the metric CRS. Every cell piece (cell ∩ ward) that holds residential area
becomes one demand point whose weight is the ward's children times the piece's share of
the ward's residential measure. The measure is taken from the first source that describes
the ward well enough:

1. ``"building"``: the footprint area of residential buildings
   (:func:`residential_features`), if they cover at least ``min_footprint_share`` of the
   ward's area;
2. ``"landuse"``: the area of residential land use (``landuse=residential``), under the
   same coverage rule;
3. ``"road"``: the length of roads and alleys (houses line the streets and *hẻm*); a
   street along the edge of a cell or ward counts half on each side;
4. ``"ward"``: otherwise one point at the ward's representative point.

The coverage rule exists because mapping is incomplete: in the 2018 OpenStreetMap extract
of Quận 3, residential footprints cover under 5 % of any ward (one ward has a single mapped
building for 14,408 residents), so a "buildings first" rule would put a whole ward's
children into one house. Dense inner-city wards are mostly built up, so footprints covering
less than a quarter of the ward (the default) mean the footprints are a sample, not the
picture, and road length is the better proxy.

Each point lies on its piece's residential feature: the representative point of the
largest footprint part, or the middle of the longest road part.

The contract of the result (checked by :func:`check_demand_points` at every entry that
takes demand points): columns ``point_id`` (unique text), ``ward_code`` (text),
``children`` (finite, >= 0), ``source``, and Point geometries in a projected CRS in metres.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from enrolment import _validate
from enrolment.errors import InvalidInputError

#: Side of the square cells children are gathered in, metres.
DEFAULT_CELL_SIZE_M = 100.0
#: Share of a ward's area that residential footprints (or land use) must cover to be used.
DEFAULT_MIN_FOOTPRINT_SHARE = 0.25
#: OSM ``building=*`` values counted as homes (``yes`` is how most houses are mapped).
RESIDENTIAL_BUILDINGS = frozenset(
    {
        "yes",
        "residential",
        "apartments",
        "house",
        "terrace",
        "detached",
        "semidetached_house",
        "bungalow",
        "dormitory",
    }
)
#: OSM keys whose presence marks a building as something other than a home.
NON_RESIDENTIAL_KEYS = ("amenity", "shop", "office", "tourism", "leisure", "craft", "healthcare")
#: OSM ``highway=*`` values along which nobody lives.
NON_RESIDENTIAL_HIGHWAYS = frozenset(
    {
        "motorway",
        "motorway_link",
        "construction",
        "proposed",
        "abandoned",
        "platform",
        "bus_guideway",
        "raceway",
        "elevator",
        "escape",
        "corridor",
        "bus_stop",
    }
)
#: Order in which sources are tried for each ward.
SOURCES = ("building", "landuse", "road", "ward")

DEMAND_COLUMNS = ("point_id", "ward_code", "children", "source")
_POLYGONS = ("Polygon", "MultiPolygon")
_LINES = ("LineString", "MultiLineString")


def check_demand_points(points: gpd.GeoDataFrame, *, field: str = "points") -> CRS:
    """Check the demand-point contract and return the points' CRS.

    Raises
    ------
    InvalidInputError
        If a column is missing, ids repeat, a weight is negative or not finite, a geometry
        is not a point, or the CRS is not projected in metres.
    """
    if not isinstance(points, gpd.GeoDataFrame):
        msg = f"expected a GeoDataFrame, got {type(points).__name__}"
        raise InvalidInputError(msg, field=field)
    crs = _validate.metric_frame(points, field=field)
    _validate.columns(points, DEMAND_COLUMNS, field=field)
    _validate.geometry_types(points, ("Point",), field=field)
    if points["point_id"].duplicated().any():
        msg = "point_id values must be unique"
        raise InvalidInputError(msg, field=field)
    _validate.amounts(points["children"].to_numpy(dtype=np.float64), len(points), field=field)
    return crs


def residential_features(
    features: gpd.GeoDataFrame,
) -> tuple[gpd.GeoSeries, gpd.GeoSeries, gpd.GeoSeries]:
    """Pick homes, residential land use and streets out of OpenStreetMap features.

    Parameters
    ----------
    features
        OSM features as read by ``osmnx.features_from_xml`` (any CRS), with some of the
        columns ``building``, ``landuse``, ``highway`` and the keys of
        :data:`NON_RESIDENTIAL_KEYS`.

    Returns
    -------
    tuple of geopandas.GeoSeries
        Residential building footprints (``building`` in :data:`RESIDENTIAL_BUILDINGS`
        and none of :data:`NON_RESIDENTIAL_KEYS` set), ``landuse=residential`` polygons,
        and street lines (``highway`` not in :data:`NON_RESIDENTIAL_HIGHWAYS`), all in the
        features' CRS.
    """

    def column(name: str) -> pd.Series:
        if name in features.columns:
            found: pd.Series = features[name]
            return found
        return pd.Series(None, index=features.index, dtype=object)

    kinds = features.geometry.geom_type
    polygons = kinds.isin(_POLYGONS).to_numpy()
    lines = kinds.isin(_LINES).to_numpy()
    other_use = np.zeros(len(features), dtype=bool)
    for key in NON_RESIDENTIAL_KEYS:
        other_use |= column(key).notna().to_numpy()
    homes = column("building").isin(RESIDENTIAL_BUILDINGS).to_numpy() & polygons & ~other_use
    landuse = (column("landuse") == "residential").to_numpy() & polygons
    highway = column("highway")
    streets = (highway.notna() & ~highway.isin(NON_RESIDENTIAL_HIGHWAYS)).to_numpy() & lines
    geometry = features.geometry
    return (
        gpd.GeoSeries(geometry[homes].to_numpy(), crs=features.crs),
        gpd.GeoSeries(geometry[landuse].to_numpy(), crs=features.crs),
        gpd.GeoSeries(geometry[streets].to_numpy(), crs=features.crs),
    )


def _pieces(wards: gpd.GeoDataFrame, cell_size_m: float) -> gpd.GeoDataFrame:
    """Cut the wards into cell pieces: ``ward``, ``ix``, ``iy``, geometry."""
    min_x, min_y, max_x, max_y = wards.total_bounds
    ix = np.arange(math.floor(min_x / cell_size_m), math.ceil(max_x / cell_size_m))
    iy = np.arange(math.floor(min_y / cell_size_m), math.ceil(max_y / cell_size_m))
    grid_x, grid_y = (a.ravel() for a in np.meshgrid(ix, iy))
    cells = shapely.box(
        grid_x * cell_size_m,
        grid_y * cell_size_m,
        (grid_x + 1) * cell_size_m,
        (grid_y + 1) * cell_size_m,
    )
    ward_index, cell_index = gpd.GeoSeries(cells).sindex.query(
        wards.geometry.to_numpy(), predicate="intersects"
    )
    parts = shapely.intersection(wards.geometry.to_numpy()[ward_index], cells[cell_index])
    area = shapely.area(parts)
    keep = area > 0
    pieces = gpd.GeoDataFrame(
        {
            "ward": ward_index[keep],
            "ix": grid_x[cell_index[keep]],
            "iy": grid_y[cell_index[keep]],
            "area_m2": area[keep],
        },
        geometry=parts[keep],
        crs=wards.crs,
    )
    return pieces.sort_values(["ward", "iy", "ix"], kind="stable").reset_index(drop=True)


def _measure(
    pieces: gpd.GeoDataFrame, features: gpd.GeoSeries, *, lines: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Return each piece's residential measure (area or length) and its anchor point."""
    measure = np.zeros(len(pieces))
    anchor = np.full(len(pieces), None, dtype=object)
    if features.empty:
        return measure, anchor
    feature_index, piece_index = pieces.sindex.query(
        features.geometry.to_numpy(), predicate="intersects"
    )
    parts = shapely.intersection(
        features.geometry.to_numpy()[feature_index], pieces.geometry.to_numpy()[piece_index]
    )
    if lines:
        # a street along a cell's or ward's edge counts half on each side
        edges = shapely.intersection(
            parts, shapely.boundary(pieces.geometry.to_numpy()[piece_index])
        )
        size = shapely.length(parts) - 0.5 * shapely.length(edges)
    else:
        size = shapely.area(parts)
    np.add.at(measure, piece_index, size)
    order = np.lexsort((-size, piece_index))
    first = np.unique(piece_index[order], return_index=True)[1]
    for position in order[first]:
        if size[position] <= 0:
            continue
        part = parts[position]
        if lines:
            anchor[piece_index[position]] = shapely.line_interpolate_point(
                part, 0.5, normalized=True
            )
        else:
            anchor[piece_index[position]] = part.representative_point()
    return measure, anchor


def demand_points(
    wards: gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoSeries | None = None,
    landuse: gpd.GeoSeries | None = None,
    roads: gpd.GeoSeries | None = None,
    cell_size_m: float = DEFAULT_CELL_SIZE_M,
    min_footprint_share: float = DEFAULT_MIN_FOOTPRINT_SHARE,
) -> gpd.GeoDataFrame:
    """Spread each ward's children over its residential area as weighted points.

    Parameters
    ----------
    wards
        One row per ward: ``ward_code``, ``children`` (children of first-grade age) and a
        (Multi)Polygon, in a projected CRS in metres.
    buildings
        Residential building footprints in the wards' CRS (see :func:`residential_features`).
    landuse
        Residential land-use polygons in the wards' CRS.
    roads
        Street lines in the wards' CRS.
    cell_size_m
        Side of the square cells children are gathered in, metres.
    min_footprint_share
        Share of a ward's area that footprints (or land use) must cover to be used.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per demand point: ``point_id`` (``"<ward>:<ix>:<iy>"``, or
        ``"<ward>:ward"`` for a ward's single point), ``ward_code``, ``children``,
        ``source`` (one of :data:`SOURCES`), Point geometry in the wards' CRS. Each ward's
        points add up to its children.

    Raises
    ------
    InvalidInputError
        If an input breaks its contract (columns, geometry types, CRS, values).
    """
    crs = _validate.metric_frame(wards, field="wards")
    _validate.columns(wards, ("ward_code", "children"), field="wards")
    _validate.geometry_types(wards, _POLYGONS, field="wards")
    children = _validate.amounts(
        wards["children"].to_numpy(dtype=np.float64), len(wards), field="wards"
    )
    codes = wards["ward_code"].astype(str).to_numpy()
    if len(set(codes)) != len(codes):
        msg = "ward_code values must be unique"
        raise InvalidInputError(msg, field="wards")
    if not (math.isfinite(cell_size_m) and cell_size_m > 0):
        msg = f"must be a positive number of metres, got {cell_size_m}"
        raise InvalidInputError(msg, field="cell_size_m")
    if not 0 <= min_footprint_share <= 1:
        msg = f"must be a share in [0, 1], got {min_footprint_share}"
        raise InvalidInputError(msg, field="min_footprint_share")
    sources: dict[str, gpd.GeoSeries] = {}
    for name, given, kinds in (
        ("building", buildings, _POLYGONS),
        ("landuse", landuse, _POLYGONS),
        ("road", roads, _LINES),
    ):
        series = gpd.GeoSeries([], crs=crs) if given is None else given
        _validate.same_crs(crs, series, field=f"{name}s" if name != "landuse" else name)
        if not series.empty:
            _validate.geometry_types(series, kinds, field=name)
        sources[name] = series
    wards = wards.reset_index(drop=True)
    pieces = _pieces(wards, cell_size_m)
    measured = {
        name: _measure(pieces, series, lines=name == "road") for name, series in sources.items()
    }
    ward_area = shapely.area(wards.geometry.to_numpy())
    rows: list[dict[str, object]] = []
    for ward in range(len(wards)):
        here = np.flatnonzero(pieces["ward"].to_numpy() == ward)
        chosen = _choose_source(here, measured, ward_area[ward], min_footprint_share)
        if chosen is None:
            rows.append(
                {
                    "point_id": f"{codes[ward]}:ward",
                    "ward_code": codes[ward],
                    "children": float(children[ward]),
                    "source": "ward",
                    "geometry": wards.geometry.iloc[ward].representative_point(),
                }
            )
            continue
        measure, anchor = measured[chosen]
        total = float(measure[here].sum())
        for piece in here:
            if measure[piece] <= 0:
                continue
            cell = f"{pieces['ix'].iat[piece]}:{pieces['iy'].iat[piece]}"
            rows.append(
                {
                    "point_id": f"{codes[ward]}:{cell}",
                    "ward_code": codes[ward],
                    "children": float(children[ward] * measure[piece] / total),
                    "source": chosen,
                    "geometry": anchor[piece],
                }
            )
    if not rows:
        return gpd.GeoDataFrame(
            {name: [] for name in DEMAND_COLUMNS}, geometry=gpd.GeoSeries([], crs=crs), crs=crs
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=crs)


def _choose_source(
    here: np.ndarray,
    measured: dict[str, tuple[np.ndarray, np.ndarray]],
    area_m2: float,
    min_share: float,
) -> str | None:
    """Return the first source that describes the ward (``None``: use its single point)."""
    for name in ("building", "landuse"):
        covered = float(measured[name][0][here].sum())
        if covered > 0 and covered >= min_share * area_m2:
            return name
    if float(measured["road"][0][here].sum()) > 0:
        return "road"
    return None
