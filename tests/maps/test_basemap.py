"""The bundled base layer and the page assets, on small hand-made inputs and the real files."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely import LineString, Polygon, box

from maps import assets
from maps.basemap import road_class, road_layer, water_layer

METRIC = "EPSG:32648"  # UTM 48N: Hồ Chí Minh City
ORIGIN = (683_000.0, 1_192_000.0)


def _line(*points: tuple[float, float]) -> LineString:
    return LineString([(ORIGIN[0] + x, ORIGIN[1] + y) for x, y in points])


def test_road_classes() -> None:
    assert road_class("primary") == "major"
    assert road_class("residential") == "street"
    assert road_class("footway") == "minor"
    assert road_class("service") == "minor"


def test_roads_merge_into_one_feature_per_class() -> None:
    edges = gpd.GeoDataFrame(
        {"highway": ["primary", "primary", "residential", "footway"]},
        geometry=[
            _line((0, 0), (100, 0)),
            _line((100, 0), (200, 0.5), (300, 0)),  # a 0.5 m wiggle: simplified away
            _line((0, 0), (0, 100)),
            _line((0, 100), (50, 150)),
        ],
        crs=METRIC,
    )
    layer = road_layer(edges)
    assert [f["properties"]["class"] for f in layer["features"]] == ["major", "street", "minor"]
    major = layer["features"][0]["geometry"]
    assert major["type"] == "LineString"
    assert len(major["coordinates"]) == 2  # the two primary edges became one straight line
    lon, lat = major["coordinates"][0]
    assert 106.0 < lon < 107.5
    assert 10.0 < lat < 11.5
    assert all(round(v, 5) == v for point in major["coordinates"] for v in point)


def test_water_is_clipped_and_split_into_areas_and_lines() -> None:
    clip = box(ORIGIN[0], ORIGIN[1], ORIGIN[0] + 1_000, ORIGIN[1] + 1_000)
    water = gpd.GeoSeries(
        [
            Polygon([(ORIGIN[0] + x, ORIGIN[1] + y) for x, y in [(-50, 0), (50, 0), (50, 50)]]),
            _line((500, -500), (500, 1_500)),
            _line((5_000, 0), (6_000, 0)),  # far away: dropped
        ],
        crs=METRIC,
    )
    layer = water_layer(water, clip=clip)
    kinds = {f["properties"]["kind"]: f["geometry"] for f in layer["features"]}
    assert set(kinds) == {"area", "line"}
    clipped = gpd.GeoDataFrame.from_features(
        [{"type": "Feature", "properties": {}, "geometry": kinds["line"]}], crs="EPSG:4326"
    ).to_crs(METRIC)
    assert clipped.length.iloc[0] == pytest.approx(1_000, abs=2)


def test_every_page_asset_is_installed() -> None:
    assets.check_assets()
    css = assets.inline_css(assets.PAGE_ASSETS["public"][0])
    assert "url(data:image/png;base64," in css
    assert "url(images/" not in css


def test_finish_page_refuses_an_unexpected_page() -> None:
    with pytest.raises(RuntimeError, match="finish_page"):
        assets.finish_page("<!DOCTYPE html><html lang='en'></html>")
