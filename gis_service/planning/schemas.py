"""Answers of the planning capability: evaluations, comparisons and site suggestions.

Coordinates are EPSG:4326 (lon, lat, 7 decimals), distances metres, durations seconds;
children, seats and their differences are rounded to 3 decimals and ``null`` where they are
not finite. An evaluation's document is also what the store keeps
(:func:`gis_service.db.scenarios_repository.save_evaluation`), as its JSON values.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, field_serializer

from gis_service.planning.changes import ScenarioChange, ScenarioIn, SchoolStatus

__all__ = [
    "BaselineColumn",
    "ChosenSite",
    "ComparedScenario",
    "Comparison",
    "ComparisonScope",
    "DemandPointZone",
    "EvaluationAnswer",
    "EvaluationDocument",
    "EvaluationStamp",
    "Flow",
    "MovedFeature",
    "MovedLayer",
    "MovedPoint",
    "MovedProperties",
    "ScenarioComparison",
    "SchoolOutcome",
    "SiteSuggestionAnswer",
    "VariantValues",
    "YearGap",
    "ZoningSummary",
]

#: A demand point and its zone school: ``[point_id, lon, lat, children, school code]``
#: (``null`` school: no zone school).
DemandPointZone = tuple[str, float, float, float | None, str | None]


class SchoolOutcome(BaseModel):
    """A first-grade school of a scenario with its seats and the children of its zone."""

    code: str
    name: str
    lon: float
    lat: float
    status: SchoolStatus
    first_grade_classes: int | None
    class_size_cap: int = Field(description="pupils per class")
    seats: float = Field(description="first-grade seats")
    seats_assumed: bool = Field(description="the classes are the manifest's default")
    children: float | None = Field(description="first-graders zoned to the school")
    seats_minus_children: float | None


class VariantValues(BaseModel):
    """One figure for each variant of the forecast."""

    low: float | None
    central: float | None
    high: float | None


class YearGap(BaseModel):
    """First-grade entrants of one school year against the seats of the zone schools."""

    year: int = Field(description="school year starting in this calendar year")
    entrants: VariantValues
    seats: float = Field(description="seats of every school of the scenario")
    zone_seat_shortfall: VariantValues = Field(
        description="entrants without a seat in their zone school, summed over the zones"
    )
    zones_short: int = Field(description="zones short of seats (central variant)")
    spare_seats_central: float | None = Field(description="seats minus entrants (central)")


class ZoningSummary(BaseModel):
    """How the scenario's zones were computed and their figures."""

    options: dict[str, Any] = Field(description="the zoning options")
    inputs_hash: str = Field(description="SHA-256 of the zoning's inputs")
    figures: dict[str, float | None] = Field(
        description="distances (metres) and shares of the zones, by figure name"
    )
    contiguity_breaks: int = Field(description="zones not in one piece")
    shortfall_by_ward: dict[str, float | None] = Field(
        description="children without a seat, by ward code"
    )
    seats_note: str = Field(description="how the seats were counted")


class EvaluationDocument(BaseModel):
    """A scenario evaluated: its zones, seats and children per school, the seat gap by year."""

    scenario: ScenarioIn
    context_hash: str = Field(description="SHA-256 of the baseline inputs evaluated against")
    zoning: ZoningSummary
    schools: list[SchoolOutcome]
    forecast: list[YearGap]
    points: list[DemandPointZone] = Field(
        description="every demand point: [point_id, lon, lat, children, zone school code]"
    )
    seconds: dict[str, float] = Field(description="time of each part of the evaluation")


class EvaluationStamp(BaseModel):
    """Which scenario revision an evaluation is of, and who kept it when."""

    scenario_id: int
    revision: int
    computed_at: dt.datetime
    computed_by: str

    @field_serializer("computed_at")
    def _isoformat(self, computed_at: dt.datetime) -> str:
        return computed_at.isoformat()


class EvaluationAnswer(EvaluationDocument, EvaluationStamp):
    """A kept evaluation: the stamp, then the document (pydantic lists later bases first)."""


class BaselineColumn(BaseModel):
    """The baseline (the registry as it is) in a comparison."""

    figures: dict[str, float | None]
    forecast: list[YearGap]
    schools: list[SchoolOutcome]
    context_hash: str


class MovedPoint(BaseModel):
    """A GeoJSON Point in EPSG:4326, ``[lon, lat]``."""

    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class MovedProperties(BaseModel):
    """The children of a demand point and their zone school before and after."""

    point_id: str
    children: float | None
    from_school: str | None
    to_school: str | None


class MovedFeature(BaseModel):
    """A demand point whose zone school changes, as a GeoJSON Feature."""

    type: Literal["Feature"] = "Feature"
    geometry: MovedPoint
    properties: MovedProperties


class MovedLayer(BaseModel):
    """The demand points whose zone school changes, as a GeoJSON FeatureCollection."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[MovedFeature]


class Flow(BaseModel):
    """Children whose zone school changes from one school to another."""

    from_school: str | None
    to_school: str | None
    children: float


class ComparedScenario(BaseModel):
    """A scenario beside the baseline: its figures and their change, the children moved."""

    id: int
    name: str
    changes: list[ScenarioChange]
    figures: dict[str, float | None]
    change: dict[str, float | None] = Field(description="figures minus the baseline's")
    forecast: list[YearGap]
    # An integer 0 when no child moves, as the sum of no flow.
    moved_children: int | float = Field(
        description="children of the baseline's points whose zone school changes"
    )
    moved_points: int
    flows: list[Flow] = Field(description="between schools, most children first")
    moved: MovedLayer
    schools: list[SchoolOutcome]


class Comparison(BaseModel):
    """Scenarios beside the baseline."""

    baseline: BaselineColumn
    scenarios: list[ComparedScenario]


class ComparisonScope(BaseModel):
    """The district and the first school year of a comparison."""

    district_code: str
    first_year: int


class ScenarioComparison(Comparison, ComparisonScope):
    """A comparison of stored scenarios: the scope, then the columns (later bases first)."""


class ChosenSite(BaseModel):
    """A candidate chosen for a new school."""

    candidate: int = Field(description="index of the candidate")
    name: str
    lon: float
    lat: float
    first_grade_seats: float


class SiteSuggestionAnswer(BaseModel):
    """Sites chosen for new schools, the solve's proof, and the figures before and after."""

    model: str = Field(description="p_median or max_covering")
    new_schools: int
    candidates: int = Field(description="candidates considered")
    sites: list[ChosenSite]
    status: str = Field(description="the solver's status")
    gap: float = Field(description="proven relative gap of the objective")
    objective: float
    bound: float
    baseline_objective: float | None = Field(description="the objective without new schools")
    gain: float = Field(description="improvement of the objective over the baseline")
    fixed_sites: int
    variables: int
    constraints: int
    before: dict[str, float] = Field(
        description="seated mean walk (m), children without a seat, children within reach"
    )
    after: dict[str, float]
    seconds: dict[str, float]
