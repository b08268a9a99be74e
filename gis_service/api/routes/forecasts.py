"""First-grade demand forecasts by ward, school or admission zone against first-grade capacity.

``GET /forecasts`` answers one year of the district's forecast: the forecast manifest with
the district's adopted forecast input version applied, if there is one (named in
``inputs_version``). ``POST /forecasts/compute`` (planner role) computes every year of it
from the manifest alone, with a planner's net migration rates and housing developments
(``overrides``) or with a saved input version (``inputs_version``), and returns the inputs
used with their hash. The zone level needs a published zone version (``POST
/zones/compute``, then ``POST /zones/{version}/publish``); see
:mod:`gis_service.forecasting.district` for the levels and
:mod:`gis_service.forecasting.schemas` for the answers.

Forecast input versions (planner role, reads included: planning inputs are internal):
``POST /forecasts/inputs`` saves one, ``GET /forecasts/inputs`` lists them newest first,
``GET /forecasts/inputs/{version}`` gives one with its inputs, ``POST
/forecasts/inputs/{version}/adopt`` adopts one. A version never changes (there is no PUT or
PATCH): an edit is a new version ``based_on`` the old one; see
:mod:`gis_service.forecasting.versions`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from gis_service.api.deps import PlannerDep, SessionDep, SettingsDep, require_role
from gis_service.db import forecast_inputs_repository as versions
from gis_service.db import repository
from gis_service.db.forecast_inputs_repository import ForecastInputVersionRecord
from gis_service.errors import FieldProblem, InvalidInputError
from gis_service.forecasting.answers import computed_forecast, forecast_answer
from gis_service.forecasting.district import compute_district_forecast, next_school_year
from gis_service.forecasting.manifest import (
    MAX_YEARS_AFTER_BASE,
    bundled_forecast_manifest,
    forecast_year_range,
)
from gis_service.forecasting.overrides import with_overrides
from gis_service.forecasting.schemas import ForecastAnswer, ForecastComputed
from gis_service.forecasting.versions import (
    DistrictInputs,
    ForecastInputVersionIn,
    ForecastOverridesIn,
    VersionKey,
    adopt_input_version,
    find_input_version,
    overrides_of,
    read_district_inputs,
    save_input_version,
    with_adopted_version,
    with_input_version,
)
from gis_service.settings import Settings
from gis_service.vocabulary import ForecastLevel

router = APIRouter(prefix="/forecasts", tags=["forecasts"])

_LEVEL_HELP = "ward, school or zone (zone needs a published admission-zone version)"
#: Forecast input versions are internal to planning: reading them needs the planner role too.
_PLANNERS_ONLY = [Depends(require_role("planner"))]


def _district_inputs(session: Session, settings: Settings) -> DistrictInputs:
    return read_district_inputs(
        session, district_code=settings.district_code, manifest=bundled_forecast_manifest()
    )


@router.get("")
def read_forecasts(
    session: SessionDep,
    settings: SettingsDep,
    year: Annotated[
        int | None,
        Query(ge=1900, le=2200, description="School year (its September intake); default: next."),
    ] = None,
    level: Annotated[ForecastLevel, Query(description=_LEVEL_HELP)] = "ward",
    from_year: Annotated[
        int | None,
        Query(
            ge=1900,
            le=2200,
            description="First year of the horizon used for first_year_short; default: next.",
        ),
    ] = None,
    years: Annotated[
        int, Query(ge=1, le=MAX_YEARS_AFTER_BASE, description="Length of that horizon.")
    ] = 10,
) -> ForecastAnswer:
    """First-grade entrants (low/central/high), seats, shortfalls and first year short.

    Seat and classroom shortfalls are positive when short and negative when there is room
    to spare; they are null where a school's first-grade classes are unknown. The zone
    level answers 404 while the district has no published zone version. The district's
    adopted forecast input version, if any, is applied and named in ``inputs_version``.
    """
    district_inputs = _district_inputs(session, settings)
    inputs = with_adopted_version(session, district_inputs)
    start = from_year or next_school_year(dt.datetime.now(dt.UTC).date())
    target = start if year is None else year
    start = min(start, target)
    forecast = compute_district_forecast(
        session,
        inputs,
        first_year=start,
        years=max(years, target - start + 1),
        class_size_cap=settings.class_size_cap,
    )
    return forecast_answer(forecast, level=level, year=target)


class ForecastComputeRequest(BaseModel):
    """What to forecast, and the inputs to change for it (inline or a saved version)."""

    model_config = ConfigDict(extra="forbid")

    first_year: int = Field(ge=1900, le=2200, description="first school year (its intake)")
    years: int = Field(default=10, ge=1, le=MAX_YEARS_AFTER_BASE)
    level: ForecastLevel = Field(default="ward", description=_LEVEL_HELP)
    class_size_cap: int | None = Field(
        default=None, ge=1, le=100, description="pupils per class where a cap is not known"
    )
    overrides: ForecastOverridesIn | None = None
    inputs_version: VersionKey | None = Field(
        default=None,
        description="a saved forecast input version (id or name), instead of overrides",
    )


@router.post("/compute")
def compute_forecast(
    session: SessionDep,
    settings: SettingsDep,
    principal: PlannerDep,
    body: ForecastComputeRequest,
) -> ForecastComputed:
    """Compute every year of the forecast at one level, with the inputs used and their hash.

    The inputs are the manifest's, changed by ``overrides`` or by the saved version
    ``inputs_version`` (not both). ``inputs_used`` holds every value the forecast is made
    from, each group with its source and date; ``inputs_hash`` is the SHA-256 of its
    canonical JSON (sorted keys, no spaces), so equal inputs give equal hashes.
    """
    if body.overrides is not None and body.inputs_version is not None:
        detail = "give overrides or inputs_version, not both"
        raise InvalidInputError(detail, problems=[FieldProblem("/inputs_version", detail)])
    district_inputs = _district_inputs(session, settings)
    inputs = district_inputs.manifest_inputs
    if body.overrides is not None:
        inputs = with_overrides(
            inputs,
            overrides_of(body.overrides),
            district=district_inputs.district,
            wards=district_inputs.wards,
        )
    if body.inputs_version is not None:
        version = find_input_version(
            session, district_inputs, body.inputs_version, pointer="/inputs_version"
        )
        inputs = with_input_version(district_inputs, version)
    earliest, latest = forecast_year_range(inputs)
    if not earliest <= body.first_year <= latest - body.years + 1:
        detail = (
            f"forecast years must lie in {earliest}-{latest} (base year "
            f"{inputs.base.base_year}), got {body.first_year}-{body.first_year + body.years - 1}"
        )
        raise InvalidInputError(detail, problems=[FieldProblem("/first_year", detail)])
    forecast = compute_district_forecast(
        session,
        inputs,
        first_year=body.first_year,
        years=body.years,
        class_size_cap=body.class_size_cap or settings.class_size_cap,
    )
    return computed_forecast(forecast, level=body.level, computed_by=principal.name)


# --- forecast input versions ------------------------------------------------------------


class ForecastInputVersionPublic(BaseModel):
    """A forecast input version: who saved it from what, and whether it is adopted."""

    id: int
    name: str
    district_code: str
    status: str = Field(
        description="draft, adopted (the district's forecasts use it) or superseded"
    )
    note: str
    inputs_hash: str = Field(description="SHA-256 of the inputs' canonical JSON")
    based_on_id: int | None
    created_at: dt.datetime
    created_by: str
    adopted_at: dt.datetime | None
    adopted_by: str | None
    inputs: dict[str, Any] | None = Field(
        default=None, description="the inputs as stored (their canonical JSON is hashed)"
    )


def _public(
    record: ForecastInputVersionRecord, *, with_inputs: bool = True
) -> ForecastInputVersionPublic:
    return ForecastInputVersionPublic(
        id=record.id,
        name=record.name,
        district_code=record.district_code,
        status=record.status,
        note=record.note,
        inputs_hash=record.inputs_hash,
        based_on_id=record.based_on_id,
        created_at=record.created_at,
        created_by=record.created_by,
        adopted_at=record.adopted_at,
        adopted_by=record.adopted_by,
        inputs=record.inputs if with_inputs else None,
    )


@router.post("/inputs", status_code=201)
def save_forecast_inputs(
    session: SessionDep,
    settings: SettingsDep,
    principal: PlannerDep,
    body: ForecastInputVersionIn,
) -> ForecastInputVersionPublic:
    """Save a planner's forecast inputs as a draft version (checked as a computation would).

    Answers 409 when the district has a version of that name: versions never change.
    """
    district_inputs = _district_inputs(session, settings)
    record = save_input_version(session, district_inputs, body, created_by=principal.name)
    session.commit()
    return _public(record)


@router.get("/inputs", dependencies=_PLANNERS_ONLY)
def list_forecast_inputs(
    session: SessionDep, settings: SettingsDep
) -> list[ForecastInputVersionPublic]:
    """Every forecast input version of the district, newest first (inputs left out)."""
    code = repository.get_district(session, settings.district_code).code
    return [
        _public(v, with_inputs=False) for v in versions.list_forecast_input_versions(session, code)
    ]


@router.get("/inputs/{version}", dependencies=_PLANNERS_ONLY)
def read_forecast_inputs(
    session: SessionDep, settings: SettingsDep, version: str
) -> ForecastInputVersionPublic:
    """One forecast input version (by id or name) with its inputs."""
    code = repository.get_district(session, settings.district_code).code
    return _public(versions.get_forecast_input_version(session, version, district_code=code))


@router.post("/inputs/{version}/adopt")
def adopt_forecast_inputs(
    session: SessionDep, settings: SettingsDep, principal: PlannerDep, version: str
) -> ForecastInputVersionPublic:
    """Adopt a version (by id or name): the district's forecasts use it from now on.

    The version adopted before is superseded. Answers 422 when the version no longer fits
    the district's forecast inputs (its wards or forecast years changed since).
    """
    district_inputs = _district_inputs(session, settings)
    record = adopt_input_version(session, district_inputs, version, actor=principal.name)
    session.commit()
    return _public(record)
