"""The map pages, drawn from the live registry on each request.

``/`` is the public map for parents; ``/office`` the view of the enrolment office and
planners, whose data comes from the API only with a staff key (entered on the page).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from gis_service.api.deps import BackgroundsDep, NetworkDep, SessionDep, SettingsDep
from gis_service.networks import NetworkCache
from gis_service.settings import Settings
from gis_service.web_map import MapBackgrounds, public_map_data, tile_layer
from maps.assets import PageName
from maps.pages import render_map

router = APIRouter(tags=["map"])


@router.get("/", response_class=HTMLResponse, summary="The public map for parents")
def public_map(
    session: SessionDep,
    settings: SettingsDep,
    networks: NetworkDep,
    backgrounds: BackgroundsDep,
) -> HTMLResponse:
    """The district's schools, published first-grade zones and wards on its own base map.

    A parent clicks the home (or types its coordinates) and the panel shows the zone
    school, the road route, metres and minutes walking and by motorbike, and the other
    schools in reach with their free seats, from ``GET /api/v1/eligibility``.
    """
    return _page(session, settings, networks, backgrounds, "public")


@router.get("/office", response_class=HTMLResponse, summary="The office and planners' view")
def office_map(
    session: SessionDep,
    settings: SettingsDep,
    networks: NetworkDep,
    backgrounds: BackgroundsDep,
) -> HTMLResponse:
    """The forecast seat shortfall per zone or ward and zone versions side by side.

    The page holds only what the public map shows; after login with a key of role
    ``enrolment_officer``, ``planner`` or ``admin`` it loads the rest from the API.
    """
    return _page(session, settings, networks, backgrounds, "office")


def _page(
    session: Session,
    settings: Settings,
    networks: NetworkCache,
    backgrounds: MapBackgrounds,
    page: PageName,
) -> HTMLResponse:
    data = public_map_data(session, networks, backgrounds, district_code=settings.district_code)
    html = render_map(
        data, page=page, assets_mode="served", api_base="", tile_layer=tile_layer(settings)
    )
    return HTMLResponse(html)
