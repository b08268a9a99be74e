"""The service's map pages: the public map for parents and the office and planners' view.

Each page is a folium (Leaflet) map drawn from plain data (:class:`PublicMapData`): the
district's schools, admission zones and wards, with a panel. The public panel answers
"where can my child go?" through the eligibility API; the office panel, after login with
an API key, colours the forecast seat shortfall and compares zone versions. It needs no
tile server and no CDN: Leaflet comes from the service (``assets="served"``) or inside the
file (``assets="inline"``, the static export), and the base layer is the district's own
roads and water. An online tile layer is added only when one is configured.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import folium
from branca.element import CssLink, Element, Figure, JavascriptLink, MacroElement
from jinja2 import Template

from maps import assets
from maps.assets import PageName
from maps.basemap import BaseLayer

AssetMode = Literal["served", "inline"]

#: Where the page's own files are served from (see :data:`maps.assets.ASSET_DIR`).
ASSET_URL = "/static/map"

_ROAD_STYLE = {
    "major": {"color": "#f2b25c", "weight": 4},
    "street": {"color": "#ffffff", "weight": 2.5},
    "minor": {"color": "#ffffff", "weight": 1.2},
}
_WATER_STYLE = {
    "area": {"color": "#8cc4e8", "weight": 0, "fillColor": "#a9d3f0", "fillOpacity": 1},
    "line": {"color": "#8cc4e8", "weight": 3},
}
_TITLES: dict[PageName, str] = {
    "public": "Bản đồ trường học",
    "office": "Tuyển sinh và quy hoạch",
}
_WARD_STYLE = {"color": "#555555", "weight": 1.5, "dashArray": "4 4", "fillOpacity": 0}
_ZONE_COLOURS = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")


@dataclass(frozen=True)
class TileLayer:
    """An online tile layer (only when configured: the page works without one)."""

    url: str
    attribution: str


@dataclass(frozen=True)
class PublicMapData:
    """Everything the public page shows, JSON-ready and in EPSG:4326.

    Attributes
    ----------
    district_code, district_name
        The district.
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` of the district.
    schools
        One dict per open school: ``code``, ``name``, ``level``, ``lon``, ``lat`` and, where
        known, ``address``, ``phone``, ``email``, ``website``, ``first_grade_seats``,
        ``free_first_grade_seats``, ``seats_assumed``.
    wards
        GeoJSON FeatureCollection of the wards (``code``, ``name``).
    zones
        GeoJSON FeatureCollection of the published first-grade zones, or ``None``.
    zone_version
        ``id``, ``name``, ``method``, ``published_at`` of the published version, or ``None``.
    streets
        Street names with a point on each (``name``, ``lon``, ``lat``), for the search box.
    basemap
        The bundled base layer, or ``None`` when the district has no roads or water.
    attribution
        Sources to credit on the map (OpenStreetMap's ODbL credit among them).
    """

    district_code: str
    district_name: str
    bounds: tuple[float, float, float, float]
    schools: list[dict[str, Any]]
    wards: dict[str, Any]
    zones: dict[str, Any] | None = None
    zone_version: dict[str, Any] | None = None
    streets: list[dict[str, Any]] = field(default_factory=list)
    basemap: BaseLayer | None = None
    attribution: tuple[str, ...] = ()


class _Start(MacroElement):
    """Hands the folium map and its layers to the page's own script."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this.script_object }}.start({{ this.map.get_name() }}, {
            layers: {
                {%- for key, layer in this.layers.items() %}
                {{ key|tojson }}: {{ layer.get_name() }},
                {%- endfor %}
            },
            control: {{ this.control.get_name() }},
            data: {{ this.data_json|safe }},
            apiBase: {{ this.api_base|tojson }}
        });
        {% endmacro %}
        """
    )

    def __init__(
        self,
        map_: folium.Map,
        layers: dict[str, folium.GeoJson],
        control: folium.LayerControl,
        data: dict[str, Any],
        api_base: str | None,
        script_object: str,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "SchoolMapStart"
        self.script_object = script_object
        self.map = map_
        self.layers = layers
        self.control = control
        self.data_json = _script_json(data)
        self.api_base = api_base


def _script_json(value: Any) -> str:
    """Return JSON safe inside a ``<script>``, keeping Vietnamese letters as they are."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _label(key: str, vietnamese: str) -> str:
    # layer names are HTML in Leaflet's control: the page's script translates them
    return f'<span data-i18n="{key}">{vietnamese}</span>'


def _style(table: dict[str, dict[str, Any]], key: str) -> Any:
    return lambda feature: table.get(feature["properties"][key], {})


def _zone_styles(zones: dict[str, Any]) -> Any:
    """Return a style function giving each zone its own colour (in school-code order)."""
    codes = sorted(str(f["properties"]["school_code"]) for f in zones["features"])
    colours = {code: _ZONE_COLOURS[i % len(_ZONE_COLOURS)] for i, code in enumerate(codes)}

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        colour = colours[str(feature["properties"]["school_code"])]
        return {"color": colour, "weight": 2, "fillColor": colour, "fillOpacity": 0.18}

    return style


def _head(page: PageName, mode: AssetMode) -> list[Element]:
    """Return the page's stylesheets and scripts, linked from the service or inlined."""
    # no favicon request: the browser would otherwise ask the server for /favicon.ico
    elements: list[Element] = [Element('<link rel="icon" href="data:,">')]
    for asset in assets.PAGE_ASSETS[page]:
        if mode == "served":
            url = f"{ASSET_URL}/{asset.path}"
            elements.append(CssLink(url) if asset.kind == "css" else JavascriptLink(url))
        elif asset.kind == "css":
            elements.append(Element(f"<style>{assets.inline_css(asset)}</style>"))
        else:
            elements.append(Element(f"<script>{assets.read_text(asset)}</script>"))
    return elements


def build_map(
    data: PublicMapData,
    *,
    page: PageName = "public",
    assets_mode: AssetMode = "served",
    api_base: str | None = "",
    tile_layer: TileLayer | None = None,
) -> folium.Map:
    """Return the folium map of a page: the district's layers, the page's panel and script.

    Parameters
    ----------
    data
        What to show.
    page
        ``"public"`` (the parents' map) or ``"office"`` (the view of the enrolment office
        and planners: its data comes from the API with the user's key).
    assets_mode
        ``"served"`` links Leaflet and the page script from :data:`ASSET_URL`;
        ``"inline"`` puts them in the page (a self-contained file).
    api_base
        Where the eligibility API is: ``""`` for the serving service, a URL for a page put
        elsewhere, ``None`` when there is none (the panel then names the zone school from
        the zones in the page, without road distances).
    tile_layer
        An optional online tile layer under the bundled base layer.
    """
    min_lon, min_lat, max_lon, max_lat = data.bounds
    fmap = folium.Map(
        location=[(min_lat + max_lat) / 2, (min_lon + max_lon) / 2],
        tiles=None,
        zoom_start=14,
        control_scale=True,
        prefer_canvas=True,
    )
    # nothing from a CDN: the page's own assets replace folium's defaults
    fmap.default_js = []
    fmap.default_css = []
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.title = f"{_TITLES[page]} — {data.district_name}"
    for index, element in enumerate(_head(page, assets_mode)):
        root.header.add_child(element, name=f"asset_{index}")
    panel = assets.PANEL_TEMPLATES[page].render(district_name=data.district_name)
    root.html.add_child(Element(panel), name="panel")
    if tile_layer is not None:
        folium.TileLayer(
            tile_layer.url,
            attr=tile_layer.attribution,
            name=_label("layer_tiles", "Nền trực tuyến"),
        ).add_to(fmap)
    layers: dict[str, folium.GeoJson] = {}
    if data.basemap is not None:
        layers["water"] = folium.GeoJson(
            data.basemap.water,
            name=_label("layer_water", "Sông, kênh"),
            style_function=_style(_WATER_STYLE, "kind"),
            interactive=False,
            control=False,
        )
        layers["roads"] = folium.GeoJson(
            data.basemap.roads,
            name=_label("layer_roads", "Đường"),
            style_function=_style(_ROAD_STYLE, "class"),
            interactive=False,
            control=False,
        )
    layers["wards"] = folium.GeoJson(
        data.wards,
        name=_label("layer_wards", "Phường, xã"),
        style_function=lambda _: _WARD_STYLE,
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
    )
    if data.zones is not None:
        layers["zones"] = folium.GeoJson(
            data.zones,
            name=_label("layer_zones", "Vùng tuyển sinh lớp 1"),
            style_function=_zone_styles(data.zones),
            tooltip=folium.GeoJsonTooltip(fields=["school_name"], labels=False),
        )
    for layer in layers.values():
        layer.add_to(fmap)
    control = folium.LayerControl(collapsed=True)
    control.add_to(fmap)
    page_data = {
        "district": {"code": data.district_code, "name": data.district_name},
        "bounds": [[min_lat, min_lon], [max_lat, max_lon]],
        "schools": data.schools,
        "wards": [
            {"code": f["properties"]["code"], "name": f["properties"]["name"]}
            for f in data.wards["features"]
        ],
        "streets": data.streets,
        "zoneVersion": data.zone_version,
        "attribution": list(data.attribution),
    }
    fmap.add_child(_Start(fmap, layers, control, page_data, api_base, assets.PAGE_SCRIPTS[page]))
    return fmap


def render_map(
    data: PublicMapData,
    *,
    page: PageName = "public",
    assets_mode: AssetMode = "served",
    api_base: str | None = "",
    tile_layer: TileLayer | None = None,
) -> str:
    """Return a page as one HTML document (see :func:`build_map`)."""
    fmap = build_map(
        data, page=page, assets_mode=assets_mode, api_base=api_base, tile_layer=tile_layer
    )
    html = fmap.get_root().render()
    return assets.finish_page(html)
