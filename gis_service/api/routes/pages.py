"""The map pages, drawn from the live registry once per state of the map.

``/`` is the public map for parents; ``/office`` the view of the enrolment office and
planners, whose data comes from the API only with a staff key (entered on the page).
A page is drawn, gzipped and brotli-compressed once for each state of what it shows
(published zones, schools, wards, roads: :func:`~gis_service.web_map.map_state`) and
served with its ``ETag``; the state is the one held in memory
(:class:`~gis_service.public_data.PublicData`), so a page already drawn needs no
connection. A browser that sends it back in ``If-None-Match`` gets 304.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from gis_service.api.cached import cached_answer
from gis_service.api.deps import (
    BackgroundsDep,
    CachedAnswersDep,
    NetworkDep,
    PublicDataDep,
    SessionDep,
    SettingsDep,
)
from gis_service.networks import NetworkCache
from gis_service.public_data import PublicData
from gis_service.settings import Settings
from gis_service.web_map import (
    CachedAnswers,
    MapBackgrounds,
    map_state,
    public_map_data,
    tile_layer,
)
from maps.assets import PageName
from maps.pages import render_map

router = APIRouter(tags=["map"])


@router.get("/", response_class=HTMLResponse, summary="The public map for parents")
def public_map(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    networks: NetworkDep,
    backgrounds: BackgroundsDep,
    pages: CachedAnswersDep,
    public: PublicDataDep,
) -> Response:
    """The district's schools, published first-grade zones and wards on its own base map.

    A parent clicks the home (or types its coordinates) and the panel shows the zone
    school, the road route, metres and minutes walking and by motorbike, and the other
    schools in reach with their free seats, from ``GET /api/v1/eligibility``.
    """
    return _page(request, session, settings, networks, backgrounds, pages, public, "public")


@router.get("/office", response_class=HTMLResponse, summary="The office and planners' view")
def office_map(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    networks: NetworkDep,
    backgrounds: BackgroundsDep,
    pages: CachedAnswersDep,
    public: PublicDataDep,
) -> Response:
    """The forecast seat shortfall per zone or ward and zone versions side by side.

    The page holds only what the public map shows; after login with a key of role
    ``enrolment_officer``, ``planner`` or ``admin`` it loads the rest from the API.
    """
    return _page(request, session, settings, networks, backgrounds, pages, public, "office")


def _page(
    request: Request,
    session: Session,
    settings: Settings,
    networks: NetworkCache,
    backgrounds: MapBackgrounds,
    pages: CachedAnswers,
    public: PublicData,
    page: PageName,
) -> Response:
    def draw() -> str:
        data = public_map_data(session, networks, backgrounds, district_code=settings.district_code)
        return render_map(
            data, page=page, assets_mode="served", api_base="", tile_layer=tile_layer(settings)
        )

    state = public.state or map_state(session)
    cached = pages.drawn((page, *state), draw)
    session.close()
    return cached_answer(request, cached, media_type="text/html; charset=utf-8")
