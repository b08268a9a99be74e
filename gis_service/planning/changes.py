"""A scenario's changes: what a planner writes, checked against the district, laid over it.

A scenario is a named list of changes (:class:`ScenarioIn`) that a planner lays over the
district's registry without touching it: add a planned school, set a school's first-grade
classes, close a school, add a housing development, set the class-size cap of every
school. Changes apply in their order; a later change may name a school an earlier one
added.

:func:`resolve_changes` checks the changes against the district and applies them to its
first-grade schools (:class:`Overlay`); :func:`overlay_geography` lays them over the
district's geography (demand points and cost matrices,
:class:`gis_service.zones.geography.Geography`), routing only what they add: the columns of
closed schools are dropped; a new school's column is routed from every demand point, and a
development's demand point to every school of the scenario (per mode); the rest of the
matrices is reused as it is.

A development is also a demand point of its own in the zoning, weighing its first-grade
yield at full occupancy (dwellings x children per dwelling and cohort x the last share of
its occupancy ramp), so the zones make room for its children.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

import enrolment
import routing
from enrolment.forecast import HousingDevelopment
from gis_service.core_errors import routing_errors
from gis_service.errors import FieldProblem, InvalidInputError
from gis_service.forecasting.manifest import ward_of
from gis_service.forecasting.overrides import (
    DevelopmentOverride,
    ForecastOverrides,
    place_development,
)
from gis_service.forecasting.versions import DevelopmentIn
from gis_service.networks import DistrictNetwork, check_point
from gis_service.records import DistrictRecord, SchoolData, WardRecord
from gis_service.text import no_control_characters
from gis_service.zones.geography import Geography, points_xy, straight_distances

__all__ = [
    "PLANNED_LEVEL",
    "AddDevelopment",
    "AddSchool",
    "CloseSchool",
    "Overlay",
    "Rezoning",
    "ScenarioChange",
    "ScenarioIn",
    "SchoolStatus",
    "SetClassSizeCap",
    "SetClasses",
    "overlay_geography",
    "resolve_changes",
    "scenario_name",
]

#: Level of a planned school (it admits first-graders).
PLANNED_LEVEL = "tieu_hoc"
#: Where a school of a scenario comes from: the registry as it is, changed, or planned.
SchoolStatus = Literal["registry", "changed", "planned"]
_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,49}$"


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


#: Which children a scenario may give a new zone school
#: (see :func:`gis_service.planning.evaluation.movable_points`).
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
        If it starts or ends with spaces, holds a control character, or is only digits
        (digits name an id).
    """
    if name.strip() != name or not name:
        msg = "a name must not start or end with spaces"
        raise ValueError(msg)
    no_control_characters(name)
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
    status: tuple[SchoolStatus, ...]
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
    status: dict[str, SchoolStatus]
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
