"""Planners' forecast inputs: the document they edit, its checks and its saved versions.

A planner changes two inputs of the district's forecast manifest (``forecast.toml``): the
annual net migration rate of wards and the list of housing developments, saying where the
figures come from and the date they describe (:class:`ForecastOverridesIn`). The same JSON
document is sent inline to ``POST /forecasts/compute`` (``overrides``) or saved as a named
version of the district (``POST /forecasts/inputs``, ``schoolgis forecast inputs save``),
after the same checks as a computation (wards, places, years, figures).

A saved version never changes: an edit is a new version, ``based_on`` the one it was made
from. Its ``inputs_hash`` is the SHA-256 of the document's canonical JSON
(:func:`gis_service.canonical.canonical_sha256`), so equal inputs give equal hashes. Adopting
a version makes it the district's (the one adopted before is superseded):
``GET /forecasts`` and ``schoolgis forecast run|report`` apply it over the manifest and
name it, with its hash, in their output; without an adopted version they use the manifest
alone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.orm import Session

from gis_service.canonical import canonical_sha256
from gis_service.db import forecast_inputs_repository as versions
from gis_service.db import repository
from gis_service.db.forecast_inputs_repository import (
    ForecastInputDraft,
    ForecastInputVersionRecord,
)
from gis_service.errors import FieldProblem, InvalidInputError, NotFoundError
from gis_service.forecasting.manifest import ForecastInputs, load_forecast_inputs
from gis_service.forecasting.overrides import (
    DevelopmentOverride,
    ForecastOverrides,
    with_overrides,
)
from gis_service.records import DistrictRecord, WardRecord
from gis_service.text import PlainText, normalize_text

__all__ = [
    "DevelopmentIn",
    "DistrictInputs",
    "ForecastInputVersionIn",
    "ForecastOverridesIn",
    "VersionKey",
    "adopt_input_version",
    "find_input_version",
    "overrides_of",
    "read_district_inputs",
    "save_input_version",
    "with_adopted_version",
    "with_input_version",
]

#: A forecast input version's id, or its name.
VersionKey = int | str


class DevelopmentIn(BaseModel):
    """A housing development: its children per dwelling and single-year cohort (pupil yield)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="the planner's identifier")
    lon: float = Field(ge=-180, le=180, description="EPSG:4326 longitude, degrees")
    lat: float = Field(ge=-90, le=90, description="EPSG:4326 latitude, degrees")
    dwellings: int = Field(ge=0, le=100_000)
    completion_year: int = Field(
        ge=1900, le=2200, description="first year it is lived in, within the forecast years"
    )
    children_per_dwelling_per_cohort: float = Field(
        ge=0, le=1, description="e.g. 0.02: 100 dwellings add 2 first-grade entrants a year"
    )
    occupancy_ramp: list[Annotated[float, Field(ge=0, le=1)]] = Field(
        default=[1.0],
        min_length=1,
        max_length=30,
        description="share of dwellings occupied in the completion year and after",
    )


class ForecastOverridesIn(BaseModel):
    """Inputs that replace the manifest's, with where they come from."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=500, description="where the figures come from")
    as_of: dt.date = Field(description="the date the figures describe")
    net_migration_rate: dict[str, Annotated[float, Field(ge=-0.5, le=0.5)]] = Field(
        default_factory=dict,
        description="annual net migration rate by ward code (0.01 = +1 % a year)",
    )
    developments: list[DevelopmentIn] | None = Field(
        default=None,
        max_length=500,
        description="the housing developments to use instead of the manifest's",
    )

    @field_validator("developments")
    @classmethod
    def _names_differ(cls, developments: list[DevelopmentIn] | None) -> list[DevelopmentIn] | None:
        names = [d.name for d in developments or []]
        if len(set(names)) != len(names):
            msg = "development names must differ"
            raise ValueError(msg)
        return developments


class ForecastInputVersionIn(BaseModel):
    """A forecast input version to save: its name, a note and the inputs themselves."""

    model_config = ConfigDict(extra="forbid")

    name: PlainText = Field(
        min_length=1,
        max_length=200,
        description="unique in the district, not only digits, e.g. '2026 building permits'",
    )
    note: str = Field(default="", max_length=2000, description="what changed and why")
    based_on: VersionKey | None = Field(
        default=None, description="the version (id or name) this one was edited from"
    )
    inputs: ForecastOverridesIn

    @field_validator("name")
    @classmethod
    def _name_is_not_an_id(cls, name: str) -> str:
        name = normalize_text(name)
        if not name:
            msg = "a name needs a character other than white space"
            raise ValueError(msg)
        if name.isdigit():
            msg = "a name must not be only digits (digits look a version up by its id)"
            raise ValueError(msg)
        return name


@dataclass(frozen=True, slots=True)
class DistrictInputs:
    """A stored district, its wards and the inputs its forecast manifest gives."""

    district: DistrictRecord
    wards: tuple[WardRecord, ...]
    manifest_inputs: ForecastInputs


def read_district_inputs(
    session: Session, *, district_code: str | None, manifest: Path
) -> DistrictInputs:
    """Return a stored district with the inputs of its forecast manifest.

    Parameters
    ----------
    session
        A session on the registry.
    district_code
        The district (``None``: the store's only district).
    manifest
        Its ``forecast.toml``.

    Returns
    -------
    DistrictInputs
        The district, its wards and the manifest's inputs.

    Raises
    ------
    NotFoundError
        If the district is not stored or the manifest is of another district.
    InvalidInputError
        If the manifest or a file it names is wrong.
    """
    district = repository.get_district(session, district_code)
    wards = tuple(repository.list_wards(session, district.code))
    inputs = load_forecast_inputs(manifest, wards=wards)
    if inputs.district_code != district.code:
        msg = f"no forecast inputs for district {district.code} ({district.name})"
        raise NotFoundError(msg)
    return DistrictInputs(district=district, wards=wards, manifest_inputs=inputs)


def overrides_of(document: ForecastOverridesIn, *, source: str | None = None) -> ForecastOverrides:
    """Return the overrides a document gives (``source``: instead of the document's).

    Parameters
    ----------
    document
        The planner's inputs.
    source
        Where the figures come from, as the forecast's notes will say.

    Returns
    -------
    ForecastOverrides
        The net migration rates and developments to apply over the manifest's inputs.
    """
    developments = None
    if document.developments is not None:
        developments = tuple(
            DevelopmentOverride(
                name=d.name,
                lon=d.lon,
                lat=d.lat,
                dwellings=d.dwellings,
                completion_year=d.completion_year,
                children_per_dwelling_per_cohort=d.children_per_dwelling_per_cohort,
                occupancy_ramp=tuple(d.occupancy_ramp),
            )
            for d in document.developments
        )
    return ForecastOverrides(
        source=source or document.source,
        as_of=document.as_of,
        net_migration_rate=dict(document.net_migration_rate),
        developments=developments,
    )


def find_input_version(
    session: Session, district_inputs: DistrictInputs, key: VersionKey, *, pointer: str
) -> ForecastInputVersionRecord:
    """Return the district's version named by a field of a request.

    Raises
    ------
    InvalidInputError
        If the district has no such version (the problem is at ``pointer``).
    """
    try:
        return versions.get_forecast_input_version(
            session, key, district_code=district_inputs.district.code
        )
    except NotFoundError as error:
        raise InvalidInputError(
            error.detail, problems=[FieldProblem(pointer, error.detail)]
        ) from None


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    return f"/{'/'.join(str(part) for part in first['loc'])}: {first['msg']}"


def with_input_version(
    district_inputs: DistrictInputs, version: ForecastInputVersionRecord
) -> ForecastInputs:
    """Return the manifest's inputs with a saved version applied over them.

    The overridden inputs' source names the version; ``input_version`` records it.

    Raises
    ------
    InvalidInputError
        If the version no longer fits the district (its wards or forecast years changed).
    """
    label = f"forecast input version {version.name!r}"
    try:
        document = ForecastOverridesIn.model_validate(version.inputs)
        applied = with_overrides(
            district_inputs.manifest_inputs,
            overrides_of(document, source=f"{document.source} ({label})"),
            district=district_inputs.district,
            wards=district_inputs.wards,
            pointer="",
        )
    except ValidationError as error:
        msg = f"{label} is not a valid inputs document: {_first_problem(error)}"
        raise InvalidInputError(msg) from None
    except InvalidInputError as error:
        msg = f"{label} does not fit the district's forecast inputs: {error.detail}"
        raise InvalidInputError(msg) from None
    return dataclasses.replace(applied, input_version=version)


def with_adopted_version(session: Session, district_inputs: DistrictInputs) -> ForecastInputs:
    """Return the inputs of the district's forecasts: its adopted version's, else the manifest's.

    Raises
    ------
    InvalidInputError
        If the adopted version no longer fits the district.
    """
    adopted = versions.adopted_forecast_input_version(session, district_inputs.district.code)
    if adopted is None:
        return district_inputs.manifest_inputs
    return with_input_version(district_inputs, adopted)


def save_input_version(
    session: Session,
    district_inputs: DistrictInputs,
    request: ForecastInputVersionIn,
    *,
    created_by: str,
) -> ForecastInputVersionRecord:
    """Check a planner's inputs and save them as a draft version of the district.

    Parameters
    ----------
    session
        A session on the registry; the caller commits.
    district_inputs
        The district and its manifest's inputs (the inputs are checked against them).
    request
        The version's name, note, the version it was edited from and the inputs.
    created_by
        Who saves it.

    Returns
    -------
    ForecastInputVersionRecord
        The saved draft version.

    Raises
    ------
    InvalidInputError
        If an input does not fit the district (problems at ``/inputs/...``) or ``based_on``
        names no version of it.
    ConflictError
        If the district already has a version of that name.
    """
    with_overrides(  # checks the inputs as a computation would; the result is not kept
        district_inputs.manifest_inputs,
        overrides_of(request.inputs),
        district=district_inputs.district,
        wards=district_inputs.wards,
        pointer="/inputs",
    )
    based_on = None
    if request.based_on is not None:
        based_on = find_input_version(
            session, district_inputs, request.based_on, pointer="/based_on"
        ).id
    document = request.inputs.model_dump(mode="json")
    draft = ForecastInputDraft(
        district_code=district_inputs.district.code,
        name=request.name,
        note=unicodedata.normalize("NFC", request.note).strip(),
        inputs=document,
        inputs_hash=canonical_sha256(document),
        created_by=created_by,
        based_on_id=based_on,
    )
    return versions.save_forecast_input_version(session, draft)


def adopt_input_version(
    session: Session, district_inputs: DistrictInputs, key: VersionKey, *, actor: str
) -> ForecastInputVersionRecord:
    """Adopt a version for the district's forecasts once it is checked to still fit.

    Raises
    ------
    NotFoundError
        If the district has no such version.
    InvalidInputError
        If it no longer fits the district's forecast inputs.
    """
    version = versions.get_forecast_input_version(
        session, key, district_code=district_inputs.district.code
    )
    with_input_version(district_inputs, version)
    return versions.adopt_forecast_input_version(
        session, version.id, district_code=district_inputs.district.code, actor=actor
    )
