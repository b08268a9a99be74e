"""A planner's changes to a forecast's inputs: ward migration rates and housing developments.

A planner may override two inputs of the forecast manifest (:func:`with_overrides`): the
net migration rate of wards and the list of housing developments, for one computation or
saved as a named forecast input version (:mod:`gis_service.forecasting.versions`). The
overridden inputs carry the planner's source and date, and the forecast's notes say which
inputs were overridden.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry import Point

from enrolment.forecast import CohortRates, HousingDevelopment
from gis_service.core_errors import enrolment_errors
from gis_service.errors import FieldProblem, InvalidInputError
from gis_service.forecasting.manifest import (
    ForecastInputs,
    InputNote,
    development_note,
    forecast_year_range,
    ward_of,
)
from gis_service.networks import check_point
from gis_service.records import DistrictRecord, WardRecord

__all__ = ["DevelopmentOverride", "ForecastOverrides", "place_development", "with_overrides"]


@dataclass(frozen=True, slots=True)
class DevelopmentOverride:
    """A housing development given by a planner (see :class:`HousingDevelopment`).

    ``lon``/``lat`` are EPSG:4326 degrees; the ward is the one holding the point.
    """

    name: str
    lon: float
    lat: float
    dwellings: int
    completion_year: int
    children_per_dwelling_per_cohort: float
    occupancy_ramp: tuple[float, ...] = (1.0,)


@dataclass(frozen=True, slots=True)
class ForecastOverrides:
    """A planner's changes to the manifest's inputs for one computation.

    Attributes
    ----------
    source
        Where the overriding figures come from.
    as_of
        The date they describe.
    net_migration_rate
        Annual net migration rate (0.01 = +1 % a year) by ward code, replacing the ward's.
    developments
        The housing developments to use instead of the manifest's (``None``: keep those).
    """

    source: str
    as_of: dt.date
    net_migration_rate: Mapping[str, float] = field(default_factory=dict)
    developments: tuple[DevelopmentOverride, ...] | None = None


def _overridden_rates(
    rates: CohortRates,
    overrides: ForecastOverrides,
    *,
    ward_codes: Sequence[str],
    label: str,
    pointer: str,
) -> CohortRates:
    rows = {code: row for row, code in enumerate(ward_codes)}
    unknown = [code for code in overrides.net_migration_rate if code not in rows]
    if unknown:
        detail = f"ward {unknown[0]!r} is not a ward of the forecast ({len(rows)} wards)"
        problems = [
            FieldProblem(f"{pointer}/net_migration_rate/{code}", f"no ward {code!r}")
            for code in unknown
        ]
        raise InvalidInputError(detail, problems=problems)
    current = rates.net_migration_rate
    migration = np.array(np.broadcast_to(current, (len(rows),)) if current.ndim < 2 else current)
    for code, rate in overrides.net_migration_rate.items():
        migration[rows[code]] = rate
    with enrolment_errors("net migration rate", pointer_prefix=pointer):
        return dataclasses.replace(
            rates,
            net_migration_rate=migration,
            source=f"{rates.source}; {label}: {overrides.source}",
            as_of=max(rates.as_of, overrides.as_of),
        )


def place_development(
    development: DevelopmentOverride,
    overrides: ForecastOverrides,
    *,
    district: DistrictRecord,
    wards: Sequence[WardRecord],
    years: tuple[int, int],
    pointer: str,
) -> HousingDevelopment:
    """Return a planner's development placed in its ward, with the overrides' provenance.

    Raises
    ------
    InvalidInputError
        If it is completed outside ``years`` (first, last), lies outside the district's
        wards or has impossible figures (the problem is at ``pointer``).
    """
    earliest, latest = years
    if not earliest <= development.completion_year <= latest:
        detail = (
            f"completion year {development.completion_year} is outside the years the "
            f"forecast covers, {earliest}-{latest}"
        )
        raise InvalidInputError(
            detail, problems=[FieldProblem(f"{pointer}/completion_year", detail)]
        )
    lon, lat = check_point(district, lat=development.lat, lon=development.lon, pointer=pointer)
    ward_code = ward_of(lon, lat, wards)
    if ward_code is None:
        detail = f"({lon}, {lat}) lies in no ward of district {district.code}"
        raise InvalidInputError(detail, problems=[FieldProblem(pointer, detail)])
    with enrolment_errors(pointer_prefix=pointer):
        return HousingDevelopment(
            development_id=development.name,
            ward_code=ward_code,
            dwellings=development.dwellings,
            completion_year=development.completion_year,
            children_per_dwelling_per_cohort=development.children_per_dwelling_per_cohort,
            occupancy_ramp=development.occupancy_ramp,
            source=overrides.source,
            as_of=overrides.as_of,
            location=Point(lon, lat),
        )


def _placed_developments(
    inputs: ForecastInputs,
    overrides: ForecastOverrides,
    *,
    district: DistrictRecord,
    wards: Sequence[WardRecord],
    pointer: str,
) -> tuple[HousingDevelopment, ...]:
    """Return the overrides' developments, each placed in its ward."""
    placed: list[HousingDevelopment] = []
    years = forecast_year_range(inputs)
    for index, development in enumerate(overrides.developments or ()):
        where = f"{pointer}/developments/{index}"
        if any(d.development_id == development.name for d in placed):
            detail = f"two developments are named {development.name!r}"
            raise InvalidInputError(detail, problems=[FieldProblem(f"{where}/name", detail)])
        placed.append(
            place_development(
                development, overrides, district=district, wards=wards, years=years, pointer=where
            )
        )
    return tuple(placed)


def with_overrides(
    inputs: ForecastInputs,
    overrides: ForecastOverrides,
    *,
    district: DistrictRecord,
    wards: Sequence[WardRecord],
    pointer: str = "/overrides",
) -> ForecastInputs:
    """Return the inputs with a planner's net migration rates and developments.

    The overridden rates and developments carry the overrides' source and date, and the
    notes say which inputs were overridden.

    Parameters
    ----------
    inputs
        The manifest's inputs (:func:`gis_service.forecasting.manifest.load_forecast_inputs`).
    overrides
        The changes.
    district
        The district forecast (developments must lie in it).
    wards
        Its wards from the registry (to place developments).
    pointer
        JSON pointer of the overrides in the request, the prefix of the problems' pointers
        (``/overrides/net_migration_rate/<ward>``, ``/overrides/developments/<n>/lon``).

    Returns
    -------
    ForecastInputs
        The inputs with the overrides applied.

    Raises
    ------
    InvalidInputError
        If a ward is not forecast, a rate is impossible or a development lies outside
        the district's wards, is completed outside the forecast years
        (:func:`~gis_service.forecasting.manifest.forecast_year_range`) or has impossible
        figures.
    """
    rates, notes = inputs.rates, list(inputs.notes)
    if overrides.net_migration_rate:
        label = f"net migration of wards {', '.join(sorted(overrides.net_migration_rate))}"
        rates = _overridden_rates(
            rates, overrides, ward_codes=inputs.base.ward_codes, label=label, pointer=pointer
        )
        notes.append(InputNote(label, overrides.source, overrides.as_of))
    developments = inputs.developments
    if overrides.developments is not None:
        developments = _placed_developments(
            inputs, overrides, district=district, wards=wards, pointer=pointer
        )
        replaced = {development_note(d) for d in inputs.developments}
        notes = [note for note in notes if note not in replaced]
        notes.extend(development_note(d) for d in developments)
    return dataclasses.replace(inputs, rates=rates, developments=developments, notes=tuple(notes))
