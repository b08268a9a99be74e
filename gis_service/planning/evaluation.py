"""Evaluation of a scenario: its distances, zones and seat gap against the district's forecast.

:func:`evaluate_scenario` starts from the district's planning context
(:class:`PlanningContext`: the geography, the forecast inputs and the baseline zones) and
recomputes only what the changes touch:

* **distances**: :func:`gis_service.planning.changes.overlay_geography` routes only what
  the changes add;
* **zones**: the capacity-aware zones (or the method of the options) on the overlay; with
  ``rezoning="affected"`` only the children a change touches (:func:`movable_points`) may get
  a new zone school;
* **forecast**: the ward forecast with the scenario's developments added to the district's
  own, carried to the scenario's zones by the demand points' weights (a development to the
  zone holding it) and compared with each zone school's seats, year by year.

:meth:`Evaluation.document` holds the figures, the seats and children per school, the seat
shortfall per year and the zone school of every demand point
(:class:`gis_service.planning.schemas.EvaluationDocument`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from enrolment.forecast import (
    VARIANTS,
    CapacityComparison,
    FirstGradeCapacity,
    HousingDevelopment,
    Variant,
    ZoneDemand,
    compare_with_capacity,
    forecast_first_grade,
    spread_to_zones,
)
from gis_service.canonical import canonical_sha256
from gis_service.core_errors import enrolment_errors
from gis_service.crs import to_wgs84
from gis_service.forecasting.district import next_school_year
from gis_service.forecasting.manifest import (
    MAX_YEARS_AFTER_BASE,
    ForecastInputs,
    bundled_forecast_manifest,
    forecast_year_range,
)
from gis_service.forecasting.versions import read_district_inputs, with_adopted_version
from gis_service.geojson import COORDINATE_DECIMALS
from gis_service.networks import DistrictNetwork
from gis_service.planning.changes import Overlay, ScenarioIn, overlay_geography, resolve_changes
from gis_service.planning.schemas import (
    DemandPointZone,
    EvaluationDocument,
    SchoolOutcome,
    VariantValues,
    YearGap,
    ZoningSummary,
)
from gis_service.records import DistrictRecord, WardRecord
from gis_service.zones.compute import ZoningOptions, ZoningResult, compute_zoning
from gis_service.zones.geography import (
    Geography,
    ZoningCache,
    bundled_zoning_manifest,
    read_zoning_manifest,
)

__all__ = [
    "DEFAULT_YEARS",
    "Evaluation",
    "PlanningContext",
    "evaluate",
    "evaluate_scenario",
    "movable_points",
    "planning_context",
]

#: Years of the forecast's capacity gap an evaluation reports.
DEFAULT_YEARS = 10
_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class PlanningContext:
    """What every evaluation of a district's scenarios shares.

    Attributes
    ----------
    geography
        The district's demand points and cost matrices (baseline).
    forecast
        The forecast inputs (the manifest's, with the adopted input version).
    district, wards
        The district and its wards.
    options
        How zones are computed.
    baseline
        The zones of the registry as it is (:func:`gis_service.zones.compute.compute_zoning`).
    first_year, years
        The school years of the capacity gap.
    class_size_cap
        The district's default cap (pupils per class).
    context_hash
        The SHA-256 of the baseline inputs (an evaluation is current while equal), computed
        once with the context.
    """

    geography: Geography
    forecast: ForecastInputs
    district: DistrictRecord
    wards: tuple[WardRecord, ...]
    options: ZoningOptions
    baseline: ZoningResult
    first_year: int
    years: int
    class_size_cap: int
    context_hash: str = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        """Hash the baseline inputs once (the context is immutable)."""
        version = self.forecast.input_version
        payload = {
            "geography": self.geography.describe(),
            "options": self.options.to_json(),
            "forecast_manifest": hashlib.sha256(self.forecast.manifest.read_bytes()).hexdigest(),
            "forecast_input_version": None if version is None else version.inputs_hash,
            "first_year": self.first_year,
            "years": self.years,
            "class_size_cap": self.class_size_cap,
        }
        object.__setattr__(self, "context_hash", canonical_sha256(payload))

    def resolve(self, scenario: ScenarioIn, *, as_of: dt.date) -> Overlay:
        """Return a scenario's changes resolved against the district.

        See :func:`gis_service.planning.changes.resolve_changes`.

        Raises
        ------
        InvalidInputError
            If a change does not fit the district.
        """
        return resolve_changes(
            scenario,
            schools=self.geography.schools,
            district=self.district,
            wards=self.wards,
            forecast_years=forecast_year_range(self.forecast),
            class_size_cap=self.class_size_cap,
            as_of=as_of,
        )


def planning_context(
    session: Session,
    district_net: DistrictNetwork,
    cache: ZoningCache,
    *,
    class_size_cap: int,
    today: dt.date,
    options: ZoningOptions | None = None,
) -> PlanningContext:
    """Return the district's planning context: geography, forecast inputs, the years.

    The capacity gap covers the next :data:`DEFAULT_YEARS` school years (fewer where the
    forecast's base year allows fewer).

    Raises
    ------
    NotFoundError
        If the district has no first-grade school or no forecast inputs.
    InvalidInputError
        If the bundled inputs do not fit the district.
    """
    options = options or ZoningOptions()
    geography = cache.geography(
        session, district_net, read_zoning_manifest(bundled_zoning_manifest())
    )
    inputs = read_district_inputs(
        session, district_code=district_net.district.code, manifest=bundled_forecast_manifest()
    )
    forecast = with_adopted_version(session, inputs)
    earliest, latest = forecast_year_range(forecast)
    first_year = min(max(next_school_year(today), earliest), latest)
    return PlanningContext(
        geography=geography,
        forecast=forecast,
        district=inputs.district,
        wards=inputs.wards,
        options=options,
        baseline=compute_zoning(geography, options),
        first_year=first_year,
        years=min(DEFAULT_YEARS, latest - first_year + 1, MAX_YEARS_AFTER_BASE),
        class_size_cap=class_size_cap,
    )


@dataclass(frozen=True, slots=True, eq=False)
class Evaluation:
    """A scenario evaluated: its zones, demand per zone against seats, and timings.

    Attributes
    ----------
    scenario
        The scenario.
    overlay
        Its changes resolved.
    zoning
        The zones on the overlay.
    demand
        Entrants by zone school over the evaluated years.
    vs_capacity
        Those entrants against each zone school's seats.
    context_hash
        :attr:`PlanningContext.context_hash` of the baseline evaluated against.
    seconds
        Time of each part (``distances``, ``zones``, ``forecast``, ``total``).
    """

    scenario: ScenarioIn
    overlay: Overlay
    zoning: ZoningResult
    demand: ZoneDemand
    vs_capacity: CapacityComparison
    context_hash: str
    seconds: Mapping[str, float]

    def document(self) -> EvaluationDocument:
        """Return the evaluation's figures, schools, seat gap by year and demand points.

        The store keeps it as JSON; :func:`gis_service.planning.comparison.compare_documents`
        puts it beside the baseline's.
        """
        result = self.zoning
        figures = result.statistics_json()
        return EvaluationDocument(
            scenario=self.scenario,
            context_hash=self.context_hash,
            zoning=ZoningSummary(
                options=result.options.to_json(),
                inputs_hash=result.inputs_hash(),
                figures=figures["figures"],
                contiguity_breaks=len(figures["contiguity_breaks"]),
                shortfall_by_ward=figures["shortfall_by_ward"],
                seats_note=result.seats.describe(),
            ),
            schools=self._schools(),
            forecast=self._forecast(),
            points=self._points(),
            seconds={k: round(v, 3) for k, v in self.seconds.items()},
        )

    def _schools(self) -> list[SchoolOutcome]:
        """Each school of the scenario with its seats and the children of its zone."""
        statistics = self.zoning.statistics
        seats = self.zoning.seats
        return [
            SchoolOutcome(
                code=school.code,
                name=school.name,
                lon=round(school.lon, COORDINATE_DECIMALS),
                lat=round(school.lat, COORDINATE_DECIMALS),
                status=status,
                first_grade_classes=school.first_grade_classes,
                class_size_cap=school.class_size_cap,
                seats=float(seats.seats[i]),
                seats_assumed=bool(seats.assumed[i]),
                children=_rounded(float(statistics.school_children[i])),
                seats_minus_children=_rounded(float(statistics.seats_minus_children[i])),
            )
            for i, (school, status) in enumerate(
                zip(self.overlay.schools, self.overlay.status, strict=True)
            )
        ]

    def _forecast(self) -> list[YearGap]:
        """Entrants of each year (zoned and not) against the seats of every school."""
        seats = float(self.zoning.seats.seats.sum())
        short = self.vs_capacity.seat_shortfall
        demand = self.vs_capacity.demand
        unzoned = self.demand.unzoned.select_years(demand.years)

        def entrants(variant: Variant, j: int) -> float | None:
            zoned = demand.variant(variant)[:, j].sum()
            return _rounded(float(zoned + unzoned.variant(variant)[:, j].sum()))

        def shortfall(variant: Variant, j: int) -> float | None:
            return _rounded(float(np.clip(short.variant(variant)[:, j], 0.0, None).sum()))

        return [
            YearGap(
                year=year,
                entrants=VariantValues.model_validate({v: entrants(v, j) for v in VARIANTS}),
                seats=seats,
                zone_seat_shortfall=VariantValues.model_validate(
                    {v: shortfall(v, j) for v in VARIANTS}
                ),
                zones_short=int((short.central[:, j] > _TOLERANCE).sum()),
                spare_seats_central=_rounded(seats - (entrants("central", j) or 0.0)),
            )
            for j, year in enumerate(demand.years)
        ]

    def _points(self) -> list[DemandPointZone]:
        """Each demand point (EPSG:4326) with its children and zone school."""
        result = self.zoning
        lonlat = to_wgs84(result.geography.points.geometry)
        codes = result.school_codes
        school = result.zoning.school
        return [
            (
                str(pid),
                round(float(lonlat.iloc[i].x), COORDINATE_DECIMALS),
                round(float(lonlat.iloc[i].y), COORDINATE_DECIMALS),
                _rounded(float(result.zoning.children[i])),
                None if school[i] < 0 else codes[int(school[i])],
            )
            for i, pid in enumerate(result.geography.points["point_id"])
        ]


def _rounded(value: float) -> float | None:
    return None if not math.isfinite(value) else round(value, 3)


def evaluate_scenario(
    context: PlanningContext, scenario: ScenarioIn, *, as_of: dt.date
) -> Evaluation:
    """Evaluate a scenario: overlaid distances, zones and the capacity gap year by year.

    Parameters
    ----------
    context
        The district's planning context (:func:`planning_context`).
    scenario
        The scenario (no changes: the baseline).
    as_of
        The date its developments' figures describe.

    Returns
    -------
    Evaluation
        Zones, demand per zone against seats and timings.

    Raises
    ------
    InvalidInputError
        If a change does not fit the district
        (see :func:`gis_service.planning.changes.resolve_changes`).
    """
    started = time.perf_counter()
    geography = context.geography
    overlay = context.resolve(scenario, as_of=as_of)
    if scenario.changes:
        overlaid = overlay_geography(geography, overlay)
        distances = time.perf_counter()
        allowed = None
        if scenario.rezoning == "affected":
            movable = movable_points(context.baseline, overlay, overlaid, mode=context.options.mode)
            allowed = _allowed(context.baseline, overlay, movable)
        zoning = compute_zoning(overlaid, context.options, allowed=allowed)
    else:
        distances = time.perf_counter()
        zoning = context.baseline
    zones = time.perf_counter()
    demand, vs_capacity = _zone_capacity_gap(context, overlay, zoning)
    done = time.perf_counter()
    return Evaluation(
        scenario=scenario,
        overlay=overlay,
        zoning=zoning,
        demand=demand,
        vs_capacity=vs_capacity,
        context_hash=context.context_hash,
        seconds={
            "distances": distances - started,
            "zones": zones - distances,
            "forecast": done - zones,
            "total": done - started,
        },
    )


def _baseline_columns(baseline: ZoningResult, overlay: Overlay) -> npt.NDArray[np.int64]:
    """Return the scenario's column of each baseline point's zone school (-1: none, closed)."""
    column = {school.code: j for j, school in enumerate(overlay.schools)}
    codes = baseline.school_codes
    return np.array(
        [column.get(codes[s], -1) if s >= 0 else -1 for s in baseline.zoning.school],
        dtype=np.int64,
    )


def movable_points(
    baseline: ZoningResult, overlay: Overlay, overlaid: Geography, *, mode: str
) -> npt.NDArray[np.bool_]:
    """Return which demand points a scenario touches (the rest keep their zone school).

    A point is touched when its zone school closes or changes (classes or cap), when a
    planned school is nearer to it than its zone school (on the ``mode`` network), when
    it is a development's point, and, if the scenario adds seats (a planned or a changed
    school), when some of its children had no seat.

    Parameters
    ----------
    baseline
        The registry's zones.
    overlay
        The scenario's schools.
    overlaid
        The scenario's geography (:func:`gis_service.planning.changes.overlay_geography`):
        the baseline's points first.
    mode
        The travel mode of the zones.

    Returns
    -------
    numpy.ndarray
        ``(n_points,)`` booleans, over the overlaid geography's points.
    """
    n_base = len(baseline.zoning.school)
    current = _baseline_columns(baseline, overlay)
    movable = np.ones(len(overlaid.points), dtype=np.bool_)
    touched = current < 0
    changed = [j for j, status in enumerate(overlay.status) if status == "changed"]
    touched |= np.isin(current, changed)
    planned = np.arange(len(overlay.kept), len(overlay.schools))
    if planned.size:
        cost = overlaid.costs[mode].distance_m[:n_base]
        here = np.where(current >= 0, cost[np.arange(n_base), np.maximum(current, 0)], np.inf)
        touched |= cost[:, planned].min(axis=1) < here
    if planned.size or changed:
        zoning = baseline.zoning
        touched |= zoning.placed < zoning.children - _TOLERANCE
    movable[:n_base] = touched
    return movable


def _allowed(
    baseline: ZoningResult, overlay: Overlay, movable: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Schools each point may be zoned to: any if movable, else its zone school."""
    allowed = np.ones((movable.size, len(overlay.schools)), dtype=np.bool_)
    current = _baseline_columns(baseline, overlay)
    fixed = np.flatnonzero(~movable)
    allowed[fixed] = False
    allowed[fixed, current[fixed]] = True
    return allowed


def _zone_capacity_gap(
    context: PlanningContext, overlay: Overlay, zoning: ZoningResult
) -> tuple[ZoneDemand, CapacityComparison]:
    """Carry the ward forecast (with the scenario's developments) to the zones, against seats."""
    inputs = context.forecast
    base_year = inputs.base.base_year
    last_year = context.first_year + context.years - 1
    with enrolment_errors("the forecast failed on the scenario's inputs"):
        ward_forecast = forecast_first_grade(
            inputs.base,
            inputs.rates,
            horizon_years=last_year - base_year,
            developments=(*inputs.developments, *overlay.developments),
        )
    codes = zoning.school_codes
    n_points = len(context.geography.points)
    points = zoning.geography.points.iloc[:n_points]
    school = zoning.zoning.school[:n_points]
    located = []
    for development in ward_forecast.developments:
        zone = _zone_holding(zoning, development)
        if zone is not None:
            located.append((development, codes[zone]))
    demand = spread_to_zones(
        ward_forecast.entrants,
        points["ward_code"].astype(str).tolist(),
        point_weight=points["children"].to_numpy(dtype=np.float64),
        point_zone=[None if s < 0 else codes[int(s)] for s in school],
        zone_ids=codes,
        located_developments=located,
    )
    caps = np.array([float(s.class_size_cap) for s in overlay.schools])
    capacity = FirstGradeCapacity(
        unit_ids=tuple(codes),
        classes=zoning.seats.seats / caps,
        class_size_cap=caps,
        source="scenario: first-grade classes (assumed where unknown) x class-size cap",
        as_of=dt.date.today(),
    )
    years = tuple(range(context.first_year, last_year + 1))
    return demand, compare_with_capacity(demand.demand.select_years(years), capacity)


def _zone_holding(zoning: ZoningResult, development: HousingDevelopment) -> int | None:
    """Return the zone school (column) holding a development, ``None`` without a location."""
    if development.location is None:
        return None
    spot = development.location.representative_point()
    zones = zoning.zones[zoning.zones["school"] >= 0]
    if zones.empty:
        return None
    holding = zones[zones.geometry.covers(spot)]
    row = holding.iloc[0] if len(holding) else zones.iloc[int(np.argmin(zones.distance(spot)))]
    return int(row["school"])


def evaluate(context: PlanningContext, scenario: ScenarioIn) -> Evaluation:
    """Evaluate a scenario as of today (see :func:`evaluate_scenario`)."""
    return evaluate_scenario(context, scenario, as_of=dt.datetime.now(dt.UTC).date())
