"""Planning scenarios: changes laid over the registry, evaluated and compared with the baseline.

A scenario is a named list of changes (:class:`ScenarioIn`) that a planner lays over the
district's registry without touching it: add a planned school, set a school's first-grade
classes, close a school, add a housing development, set the class-size cap of every
school. Changes apply in their order; a later change may name a school an earlier one
added.

Evaluation (:func:`evaluate_scenario`) starts from the district's geography (demand
points and cost matrices, :class:`gis_service.zones.compute.Geography`) and recomputes only what
the changes touch:

* **distances**: the columns of closed schools are dropped; a new school's column is
  routed from every demand point, and a development's demand point to every school of the
  scenario (per mode); the rest of the matrices is reused as it is;
* **zones**: the capacity-aware zones (or the method of the options) on the overlay;
* **forecast**: the ward forecast with the scenario's developments added to the district's
  own, carried to the scenario's zones by the demand points' weights (a development to the
  zone holding it) and compared with each zone school's seats, year by year.

A development is also a demand point of its own in the zoning, weighing its first-grade
yield at full occupancy (dwellings x children per dwelling and cohort x the last share of
its occupancy ramp), so the zones make room for its children.

:meth:`Evaluation.document` holds the figures, the seats and children per school, the seat
shortfall per year and the zone school of every demand point; :func:`compare_documents`
puts documents beside the baseline's (the same evaluation without changes): the figures
and their change, the shortfall per year, the children who change zone school and a
GeoJSON layer of where they live.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

import enrolment
import routing
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
from gis_service.core_errors import routing_errors
from gis_service.crs import to_wgs84
from gis_service.db import scenarios_repository
from gis_service.db.forecast_inputs_repository import adopted_forecast_input_version
from gis_service.db.scenarios_repository import EvaluationRecord, ScenarioDraft, ScenarioRecord
from gis_service.errors import FieldProblem, InvalidInputError
from gis_service.forecasting.district import (
    MAX_YEARS_AFTER_BASE,
    DevelopmentOverride,
    ForecastInputs,
    ForecastOverrides,
    bundled_forecast_manifest,
    forecast_year_range,
    next_school_year,
    place_development,
    ward_of,
)
from gis_service.forecasting.versions import (
    DevelopmentIn,
    read_district_inputs,
    with_adopted_version,
)
from gis_service.geojson import COORDINATE_DECIMALS
from gis_service.networks import DistrictNetwork, check_point
from gis_service.records import DistrictRecord, SchoolData, WardRecord
from gis_service.zones.compute import (
    Geography,
    ZoningCache,
    ZoningOptions,
    ZoningResult,
    bundled_zoning_manifest,
    compute_zoning,
    points_xy,
    read_zoning_manifest,
    straight_distances,
)

__all__ = [
    "COMPARED_FIGURES",
    "AddDevelopment",
    "AddSchool",
    "CloseSchool",
    "Evaluation",
    "Overlay",
    "PlanningCache",
    "PlanningContext",
    "ScenarioChange",
    "ScenarioIn",
    "SetClassSizeCap",
    "SetClasses",
    "check_scenario",
    "compare_documents",
    "compare_stored",
    "current_document",
    "draft_of",
    "evaluate",
    "evaluate_scenario",
    "evaluate_stored",
    "movable_points",
    "overlay_geography",
    "planning_context",
    "resolve_changes",
    "scenario_name",
    "scenario_of",
]

#: Years of the forecast's capacity gap an evaluation reports.
DEFAULT_YEARS = 10
#: Level of a planned school (it admits first-graders).
PLANNED_LEVEL = "tieu_hoc"
#: Figures of the zoning compared side by side (names of :func:`enrolment.comparison_table`).
COMPARED_FIGURES = (
    "mean_distance_m.walk",
    "median_distance_m.walk",
    "p90_distance_m.walk",
    "mean_distance_m.motorbike",
    "p90_distance_m.motorbike",
    "within_1km_walk_share",
    "within_2km_walk_share",
    "children",
    "shortfall_children",
    "not_nearest_children",
    "schools_over_capacity",
)
_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,49}$"
_TOLERANCE = 1e-6


class AddSchool(BaseModel):
    """A planned primary school: where it stands and its first-grade classes."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["add_school"]
    code: str = Field(pattern=_CODE_PATTERN, description="a code no school of the district has")
    name: str = Field(min_length=1, max_length=200)
    lon: float = Field(ge=-180, le=180, description="EPSG:4326 longitude, degrees")
    lat: float = Field(ge=-90, le=90, description="EPSG:4326 latitude, degrees")
    first_grade_classes: int = Field(ge=1, le=30)
    class_size_cap: int | None = Field(
        default=None, ge=1, le=100, description="pupils per class (default: the district's)"
    )


class SetClasses(BaseModel):
    """Expand or reduce a school's first-grade classes."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["set_classes"]
    school_code: str = Field(min_length=1, max_length=50)
    first_grade_classes: int = Field(ge=0, le=30)


class CloseSchool(BaseModel):
    """Close a school: its children go to the other schools."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["close_school"]
    school_code: str = Field(min_length=1, max_length=50)


class AddDevelopment(DevelopmentIn):
    """A housing development (see :class:`gis_service.forecasting.versions.DevelopmentIn`)."""

    kind: Literal["add_development"]


class SetClassSizeCap(BaseModel):
    """Set the class-size cap of every school (a planned school's own cap stays)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["set_class_size_cap"]
    class_size_cap: int = Field(ge=1, le=100)


#: Which children a scenario may give a new zone school (see :func:`movable_points`).
Rezoning = Literal["affected", "all"]

ScenarioChange = Annotated[
    AddSchool | SetClasses | CloseSchool | AddDevelopment | SetClassSizeCap,
    Field(discriminator="kind"),
]


def scenario_name(name: str) -> str:
    """Return a scenario's name after checking it (a pydantic validator).

    Raises
    ------
    ValueError
        If it starts or ends with spaces, or is only digits (digits name an id).
    """
    if name.strip() != name or not name:
        msg = "a name must not start or end with spaces"
        raise ValueError(msg)
    if name.isdigit():
        msg = "a name must not be only digits (digits look a scenario up by its id)"
        raise ValueError(msg)
    return name


class ScenarioIn(BaseModel):
    """A scenario as a planner writes it: a name, a description and the changes."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    changes: list[ScenarioChange] = Field(default_factory=list, max_length=200)
    rezoning: Rezoning = Field(
        default="affected",
        description=(
            "affected: only the children a change touches get a new zone school; "
            "all: every zone is computed afresh"
        ),
    )

    @field_validator("name")
    @classmethod
    def _name_is_not_an_id(cls, name: str) -> str:
        return scenario_name(name)

    def changes_json(self) -> list[dict[str, Any]]:
        """Return the changes as JSON values."""
        return [change.model_dump(mode="json") for change in self.changes]


# --------------------------------------------------------------------------- overlay


@dataclass(frozen=True, slots=True)
class Overlay:
    """A scenario's changes resolved against the district's first-grade schools.

    Attributes
    ----------
    schools
        The scenario's first-grade schools: the registry's that stay open (with their
        changed classes and caps), in the geography's order, then the planned ones.
    kept
        The geography's column of each registry school that stays open.
    status
        Per school of ``schools``: ``"registry"``, ``"changed"`` or ``"planned"``.
    developments
        The scenario's housing developments, placed in their wards.
    """

    schools: tuple[SchoolData, ...]
    kept: tuple[int, ...]
    status: tuple[str, ...]
    developments: tuple[HousingDevelopment, ...]

    @property
    def planned(self) -> tuple[SchoolData, ...]:
        """The planned schools."""
        return self.schools[len(self.kept) :]


def _problem(pointer: str, detail: str) -> InvalidInputError:
    return InvalidInputError(detail, problems=[FieldProblem(pointer, detail)])


@dataclass(slots=True)
class _Resolution:
    """The schools and developments of a scenario while its changes are applied."""

    current: dict[str, SchoolData]
    status: dict[str, str]
    order: list[str]
    developments: list[HousingDevelopment] = dataclasses.field(default_factory=list)
    cap: int | None = None
    own_cap: set[str] = dataclasses.field(default_factory=set)

    def add_school(
        self,
        change: AddSchool,
        where: str,
        *,
        district: DistrictRecord,
        wards: Sequence[WardRecord],
        cap: int,
    ) -> None:
        """Add a planned school (its code must be new, its place in the district)."""
        if change.code in self.status:
            pointer, detail = f"{where}/code", f"school code {change.code!r} is already used"
            raise _problem(pointer, detail)
        lon, lat = check_point(district, lat=change.lat, lon=change.lon, pointer=where)
        self.current[change.code] = SchoolData(
            code=change.code,
            name=change.name,
            lon=lon,
            lat=lat,
            level=PLANNED_LEVEL,
            ward_code=ward_of(lon, lat, wards),
            first_grade_classes=change.first_grade_classes,
            class_size_cap=change.class_size_cap or cap,
            class_size_cap_is_default=change.class_size_cap is None,
            source="scenario",
        )
        if change.class_size_cap is not None:
            self.own_cap.add(change.code)
        self.status[change.code] = "planned"
        self.order.append(change.code)

    def change_school(
        self, change: SetClasses | CloseSchool, where: str, *, district_code: str
    ) -> None:
        """Close a school or set its classes (it must be open in the scenario)."""
        code = change.school_code
        if code not in self.current:
            known = "closed in this scenario" if code in self.status else "not an open first-grade"
            pointer = f"{where}/school_code"
            detail = f"school {code!r} is {known} school of district {district_code}"
            raise _problem(pointer, detail)
        if isinstance(change, CloseSchool):
            del self.current[code]
            return
        classes = change.first_grade_classes
        self.current[code] = dataclasses.replace(self.current[code], first_grade_classes=classes)
        if self.status[code] == "registry":
            self.status[code] = "changed"

    def add_development(
        self,
        change: AddDevelopment,
        where: str,
        overrides: ForecastOverrides,
        *,
        district: DistrictRecord,
        wards: Sequence[WardRecord],
        years: tuple[int, int],
    ) -> None:
        """Place a housing development in its ward (names must differ)."""
        if any(d.development_id == change.name for d in self.developments):
            pointer, detail = f"{where}/name", f"two developments are named {change.name!r}"
            raise _problem(pointer, detail)
        planned = DevelopmentOverride(
            name=change.name,
            lon=change.lon,
            lat=change.lat,
            dwellings=change.dwellings,
            completion_year=change.completion_year,
            children_per_dwelling_per_cohort=change.children_per_dwelling_per_cohort,
            occupancy_ramp=tuple(change.occupancy_ramp),
        )
        self.developments.append(
            place_development(
                planned, overrides, district=district, wards=wards, years=years, pointer=where
            )
        )

    def apply_cap(self) -> None:
        """Give every school without a cap of its own the scenario's cap, if it sets one."""
        if self.cap is None:
            return
        for code, school in self.current.items():
            if code not in self.own_cap:
                self.current[code] = dataclasses.replace(
                    school, class_size_cap=self.cap, class_size_cap_is_default=False
                )
                if self.status[code] == "registry":
                    self.status[code] = "changed"


def resolve_changes(
    scenario: ScenarioIn,
    *,
    schools: Sequence[SchoolData],
    district: DistrictRecord,
    wards: Sequence[WardRecord],
    forecast_years: tuple[int, int],
    class_size_cap: int,
    as_of: dt.date,
) -> Overlay:
    """Check a scenario's changes against the district and apply them to its schools.

    Parameters
    ----------
    scenario
        The scenario.
    schools
        The district's open first-grade schools (the geography's, in its column order).
    district, wards
        The district and its wards (planned schools and developments must lie in them).
    forecast_years
        First and last year the forecast can cover (a development's completion year).
    class_size_cap
        The district's default cap, for planned schools that give none.
    as_of
        The date the scenario's figures describe.

    Returns
    -------
    Overlay
        The scenario's schools and developments.

    Raises
    ------
    InvalidInputError
        If a change names an unknown or closed school, reuses a code or a name, places
        something outside the district, or leaves no school open (the problem's pointer is
        ``/changes/<n>/<field>``).
    """
    state = _Resolution(
        current={s.code: s for s in schools},
        status={s.code: "registry" for s in schools},
        order=[s.code for s in schools],
    )
    overrides = ForecastOverrides(source=f"scenario {scenario.name!r}", as_of=as_of)
    for index, change in enumerate(scenario.changes):
        where = f"/changes/{index}"
        if isinstance(change, AddSchool):
            state.add_school(change, where, district=district, wards=wards, cap=class_size_cap)
        elif isinstance(change, SetClasses | CloseSchool):
            state.change_school(change, where, district_code=district.code)
        elif isinstance(change, AddDevelopment):
            state.add_development(
                change, where, overrides, district=district, wards=wards, years=forecast_years
            )
        else:
            state.cap = change.class_size_cap
    if not state.current:
        detail = "the scenario closes every first-grade school of the district"
        pointer = "/changes"
        raise _problem(pointer, detail)
    state.apply_cap()
    columns = {s.code: column for column, s in enumerate(schools)}
    codes = [code for code in state.order if code in state.current]
    return Overlay(
        schools=tuple(state.current[code] for code in codes),
        kept=tuple(columns[code] for code in codes if code in columns),
        status=tuple(state.status[code] for code in codes),
        developments=tuple(state.developments),
    )


def _full_yield(development: HousingDevelopment) -> float:
    """Return a development's first-grade entrants a year once its occupancy ramp is over."""
    settled = development.completion_year + len(development.occupancy_ramp) - 1
    return development.first_grade_yield(settled)


def overlay_geography(geography: Geography, overlay: Overlay) -> Geography:
    """Return the geography of a scenario, routing only what its changes add.

    The kept schools' columns of the cost matrices are reused; each planned school gets a
    column routed from every demand point and each development a demand point routed to
    every school of the scenario (both per mode).

    Raises
    ------
    InvalidInputError
        If a planned school or a development cannot be placed on the road network.
    """
    started = time.perf_counter()
    district_net = geography.district_net
    kept = list(overlay.kept)
    planned = list(overlay.planned)
    points = geography.points
    xy = points_xy(points)
    planned_xy = district_net.schools_xy(planned)
    schools_xy = district_net.schools_xy(list(overlay.schools))
    extra = _development_points(overlay.developments, district_net, like=points)
    extra_xy = points_xy(extra)
    costs: dict[str, enrolment.TravelCosts] = {}
    unreachable = list(geography.unreachable)
    with routing_errors("/changes"):
        for mode, base in geography.costs.items():
            distance, duration = base.distance_m[:, kept], base.duration_s[:, kept]
            if planned:
                added = routing.cost_matrix(
                    district_net.network, mode, origins=xy, destinations=planned_xy
                )
                distance = np.hstack([distance, added.dense("length_m")])
                duration = np.hstack([duration, added.dense("travel_time_s")])
            if len(extra):
                rows = routing.cost_matrix(
                    district_net.network, mode, origins=extra_xy, destinations=schools_xy
                )
                distance = np.vstack([distance, rows.dense("length_m")])
                duration = np.vstack([duration, rows.dense("travel_time_s")])
                if mode == "walk":
                    unreachable.extend(routing.ORIGIN_STATUS[int(s)] for s in rows.origin_status)
            costs[mode] = enrolment.TravelCosts(mode, distance, duration)
    walk = costs["walk"].distance_m
    reached = np.asarray(np.isfinite(walk).any(axis=1), dtype=np.bool_)
    unreachable = [
        "ok" if reached[i] else (reason if reason != "ok" else "no_route")
        for i, reason in enumerate(unreachable)
    ]
    all_points = points if not len(extra) else pd.concat([points, extra], ignore_index=True)
    all_xy = np.vstack([xy, extra_xy]) if len(extra) else xy
    return dataclasses.replace(
        geography,
        schools=overlay.schools,
        points=gpd.GeoDataFrame(all_points, geometry="geometry", crs=points.crs),
        costs=costs,
        straight_m=straight_distances(all_xy, schools_xy),
        unreachable=tuple(unreachable),
        seconds={"overlay": time.perf_counter() - started},
    )


def _development_points(
    developments: Sequence[HousingDevelopment],
    district_net: DistrictNetwork,
    *,
    like: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """One demand point per development, weighing its first-grade yield at full occupancy."""
    located = [d for d in developments if d.location is not None]
    spots = [d.location.representative_point() for d in located if d.location is not None]
    x, y = district_net.network.lonlat_to_xy([p.x for p in spots], [p.y for p in spots])
    return gpd.GeoDataFrame(
        {
            "point_id": [f"development:{d.development_id}" for d in located],
            "ward_code": [d.ward_code for d in located],
            "children": [_full_yield(d) for d in located],
            "source": ["development"] * len(located),
        },
        geometry=gpd.points_from_xy(x, y),
        crs=like.crs,
    )


# --------------------------------------------------------------------------- evaluation


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

    def resolve(self, scenario: ScenarioIn, *, as_of: dt.date) -> Overlay:
        """Return a scenario's changes resolved against the district (:func:`resolve_changes`).

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

    def context_hash(self) -> str:
        """Return the SHA-256 of the baseline inputs (an evaluation is current while equal)."""
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
        return canonical_sha256(payload)


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
        :meth:`PlanningContext.context_hash` of the baseline evaluated against.
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

    def document(self) -> dict[str, Any]:
        """Return the evaluation as JSON values (stored; see :func:`compare_documents`)."""
        result = self.zoning
        statistics = result.statistics
        seats = result.seats
        schools = [
            {
                "code": school.code,
                "name": school.name,
                "lon": round(school.lon, COORDINATE_DECIMALS),
                "lat": round(school.lat, COORDINATE_DECIMALS),
                "status": status,
                "first_grade_classes": school.first_grade_classes,
                "class_size_cap": school.class_size_cap,
                "seats": float(seats.seats[i]),
                "seats_assumed": bool(seats.assumed[i]),
                "children": _rounded(float(statistics.school_children[i])),
                "seats_minus_children": _rounded(float(statistics.seats_minus_children[i])),
            }
            for i, (school, status) in enumerate(
                zip(self.overlay.schools, self.overlay.status, strict=True)
            )
        ]
        short = self.vs_capacity.seat_shortfall
        demand = self.vs_capacity.demand
        unzoned = self.demand.unzoned.select_years(demand.years)

        def entrants(variant: Variant, j: int) -> float | None:
            zoned = demand.variant(variant)[:, j].sum()
            return _rounded(float(zoned + unzoned.variant(variant)[:, j].sum()))

        forecast = [
            {
                "year": year,
                "entrants": {v: entrants(v, j) for v in VARIANTS},
                "seats": float(seats.seats.sum()),
                "zone_seat_shortfall": {
                    v: _rounded(float(np.clip(short.variant(v)[:, j], 0.0, None).sum()))
                    for v in VARIANTS
                },
                "zones_short": int((short.central[:, j] > _TOLERANCE).sum()),
                "spare_seats_central": _rounded(
                    float(seats.seats.sum()) - (entrants("central", j) or 0.0)
                ),
            }
            for j, year in enumerate(demand.years)
        ]
        lonlat = to_wgs84(result.geography.points.geometry)
        codes = result.school_codes
        points = [
            [
                str(pid),
                round(float(lonlat.iloc[i].x), COORDINATE_DECIMALS),
                round(float(lonlat.iloc[i].y), COORDINATE_DECIMALS),
                _rounded(float(result.zoning.children[i])),
                None if result.zoning.school[i] < 0 else codes[int(result.zoning.school[i])],
            ]
            for i, pid in enumerate(result.geography.points["point_id"])
        ]
        figures = result.statistics_json()
        return {
            "scenario": {
                "name": self.scenario.name,
                "description": self.scenario.description,
                "changes": self.scenario.changes_json(),
                "rezoning": self.scenario.rezoning,
            },
            "context_hash": self.context_hash,
            "zoning": {
                "options": result.options.to_json(),
                "inputs_hash": result.inputs_hash(),
                "figures": figures["figures"],
                "contiguity_breaks": len(figures["contiguity_breaks"]),
                "shortfall_by_ward": figures["shortfall_by_ward"],
                "seats_note": seats.describe(),
            },
            "schools": schools,
            "forecast": forecast,
            "points": points,
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }


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
        If a change does not fit the district (see :func:`resolve_changes`).
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
        context_hash=context.context_hash(),
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
        The scenario's geography (:func:`overlay_geography`): the baseline's points first.
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
    try:
        ward_forecast = forecast_first_grade(
            inputs.base,
            inputs.rates,
            horizon_years=last_year - base_year,
            developments=(*inputs.developments, *overlay.developments),
        )
    except enrolment.EnrolmentError as error:
        msg = f"the forecast failed on the scenario's inputs: {error}"
        raise InvalidInputError(msg) from None
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


# --------------------------------------------------------------------------- comparison


def _figures(document: Mapping[str, Any]) -> dict[str, float | None]:
    figures = document["zoning"]["figures"]
    return {name: figures.get(name) for name in COMPARED_FIGURES}


def _difference(after: float | None, before: float | None) -> float | None:
    if after is None or before is None:
        return None
    return round(after - before, 3)


def compare_documents(
    baseline: Mapping[str, Any], scenarios: Sequence[tuple[int, Mapping[str, Any]]]
) -> dict[str, Any]:
    """Put scenarios' evaluations beside the baseline's.

    Parameters
    ----------
    baseline
        The baseline's evaluation document (:meth:`Evaluation.document`).
    scenarios
        Each scenario's id with its evaluation document.

    Returns
    -------
    dict
        ``baseline`` (figures, shortfall by year), and per scenario its figures, their
        change from the baseline, its shortfall by year, ``moved_children`` (children of
        the baseline's demand points whose zone school changes), the flows between
        schools, and ``moved``: a GeoJSON FeatureCollection of those points (EPSG:4326)
        with their children and both schools.
    """
    base_school = {point[0]: point[4] for point in baseline["points"]}
    compared = []
    for scenario_id, document in scenarios:
        features = []
        flows: dict[tuple[str | None, str | None], float] = defaultdict(float)
        for point_id, lon, lat, children, school in document["points"]:
            if point_id not in base_school or base_school[point_id] == school:
                continue
            before = base_school[point_id]
            flows[before, school] += children or 0.0
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {
                        "point_id": point_id,
                        "children": children,
                        "from_school": before,
                        "to_school": school,
                    },
                }
            )
        figures = _figures(document)
        base_figures = _figures(baseline)
        compared.append(
            {
                "id": scenario_id,
                "name": document["scenario"]["name"],
                "changes": document["scenario"]["changes"],
                "figures": figures,
                "change": {k: _difference(v, base_figures[k]) for k, v in figures.items()},
                "forecast": document["forecast"],
                "moved_children": round(sum(flows.values()), 3),
                "moved_points": len(features),
                "flows": [
                    {"from_school": a, "to_school": b, "children": round(c, 3)}
                    for (a, b), c in sorted(flows.items(), key=lambda item: -item[1])
                ],
                "moved": {"type": "FeatureCollection", "features": features},
                "schools": document["schools"],
            }
        )
    return {
        "baseline": {
            "figures": _figures(baseline),
            "forecast": baseline["forecast"],
            "schools": baseline["schools"],
            "context_hash": baseline["context_hash"],
        },
        "scenarios": compared,
    }


# --------------------------------------------------------------------------- stored scenarios


def scenario_of(record: ScenarioRecord) -> ScenarioIn:
    """Return a stored scenario as the document it was written as."""
    return ScenarioIn.model_validate(
        {
            "name": record.name,
            "description": record.description,
            "changes": record.changes,
            "rezoning": record.rezoning,
        }
    )


def draft_of(scenario: ScenarioIn) -> ScenarioDraft:
    """Return a checked scenario as what the store keeps."""
    return ScenarioDraft(
        name=scenario.name,
        description=scenario.description,
        changes=scenario.changes_json(),
        rezoning=scenario.rezoning,
    )


def check_scenario(context: PlanningContext, scenario: ScenarioIn) -> None:
    """Check a scenario's changes against the district before it is stored.

    Raises
    ------
    InvalidInputError
        If a change does not fit the district (see :func:`resolve_changes`).
    """
    context.resolve(scenario, as_of=dt.datetime.now(dt.UTC).date())


def evaluate_stored(
    session: Session, context: PlanningContext, record: ScenarioRecord, *, actor: str
) -> EvaluationRecord:
    """Evaluate a stored scenario and keep the evaluation (the caller commits)."""
    evaluation = evaluate(context, scenario_of(record))
    return scenarios_repository.save_evaluation(
        session,
        record,
        context_hash=evaluation.context_hash,
        document=evaluation.document(),
        actor=actor,
    )


def current_document(
    session: Session, context: PlanningContext, record: ScenarioRecord
) -> dict[str, Any]:
    """Return a scenario's evaluation: the stored one while current, else a fresh one.

    The stored evaluation is current while it is of the scenario's revision and of the
    same baseline inputs (:meth:`PlanningContext.context_hash`); a fresh one is not kept.
    """
    stored = scenarios_repository.latest_evaluation(session, record.id)
    if (
        stored is not None
        and stored.revision == record.revision
        and stored.context_hash == context.context_hash()
    ):
        return stored.document
    return evaluate(context, scenario_of(record)).document()


def compare_stored(
    session: Session, context: PlanningContext, keys: Sequence[int | str]
) -> dict[str, Any]:
    """Compare stored scenarios (by id or name) with the baseline.

    Raises
    ------
    NotFoundError
        If a scenario does not exist.
    """
    code = context.district.code
    records = [scenarios_repository.get_scenario(session, key, district_code=code) for key in keys]
    baseline = evaluate(context, ScenarioIn(name="baseline")).document()
    compared = compare_documents(
        baseline, [(record.id, current_document(session, context, record)) for record in records]
    )
    return {"district_code": code, "first_year": context.first_year, **compared}


class PlanningCache:
    """The latest planning context of each district, kept while its inputs are the same."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: dict[str, tuple[tuple[Any, ...], PlanningContext]] = {}

    def context(
        self,
        session: Session,
        district_net: DistrictNetwork,
        cache: ZoningCache,
        *,
        class_size_cap: int,
        today: dt.date,
    ) -> PlanningContext:
        """Return the district's planning context, rebuilt when its inputs change."""
        geography = cache.geography(
            session, district_net, read_zoning_manifest(bundled_zoning_manifest())
        )
        version = adopted_forecast_input_version(session, district_net.district.code)
        key = (
            None if version is None else version.inputs_hash,
            class_size_cap,
            next_school_year(today),
        )
        with self._lock:
            found = self._built.get(district_net.district.code)
            if found is None or found[0] != key or found[1].geography is not geography:
                built = planning_context(
                    session, district_net, cache, class_size_cap=class_size_cap, today=today
                )
                self._built[district_net.district.code] = (key, built)
                return built
            return found[1]
