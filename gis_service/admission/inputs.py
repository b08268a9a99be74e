"""What a placement run gives the enrolment core, and the frozen document of it.

Each school of the run has its first-grade seats from the round, the registry or the
round's assumed number of classes. :class:`PlacementInputs` holds everything the core is
given, with what is needed to explain the result; :class:`FrozenInputs` is the document a
run stores as canonical JSON and hashes (no timestamps: the same inputs give the same
bytes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from gis_service.db.applications_repository import ApplicationRecord
from gis_service.db.rounds_repository import RoundRecord
from gis_service.db.zones_repository import ZoneVersionRecord
from gis_service.errors import InvalidInputError
from gis_service.records import SchoolData
from gis_service.vocabulary import MECHANISM_OF, RunMethod

#: The travel mode whose road distances rank children and pick the guarantee school.
MODE = "walk"
#: Version of the frozen inputs' layout.
INPUTS_FORMAT = 1

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class SchoolSeats:
    """A school of the run with its first-grade seats and where they come from.

    ``source`` is ``"round"`` (set for the round), ``"registry"`` (classes x cap in the
    registry) or ``"assumed"`` (the round's default classes x cap).
    """

    code: str
    name: str
    seats: int
    source: str
    lon: float
    lat: float


def school_seats(round_record: RoundRecord, schools: Sequence[SchoolData]) -> list[SchoolSeats]:
    """Return each school's seats for the round.

    Raises
    ------
    InvalidInputError
        If a school's seats are known neither to the round nor to the registry and the
        round assumes no default number of classes.
    """
    found = []
    missing = []
    for school in schools:
        if school.code in round_record.seats:
            seats, source = round_record.seats[school.code], "round"
        elif school.first_grade_seats is not None:
            seats, source = school.first_grade_seats, "registry"
        elif round_record.default_first_grade_classes is not None:
            seats = round_record.default_first_grade_classes * school.class_size_cap
            source = "assumed"
        else:
            missing.append(school.code)
            continue
        found.append(SchoolSeats(school.code, school.name, seats, source, school.lon, school.lat))
    if missing:
        msg = (
            f"the first-grade seats of schools {', '.join(missing)} are unknown: enter their "
            "classes in the registry, or give the round seats or default classes"
        )
        raise InvalidInputError(msg)
    return found


class FrozenRound(BaseModel):
    """The round as the placement used it."""

    id: int
    district_code: str
    year: int
    max_choices: int
    rules: list[str]
    priority_categories: list[str]


class FrozenZoneVersion(BaseModel):
    """The zone version whose zones decided ``in_zone``."""

    id: int
    name: str
    inputs_hash: str


class FrozenSchool(BaseModel):
    """A school with its first-grade seats and where they come from."""

    code: str
    seats: int
    seats_source: str


class FrozenApplication(BaseModel):
    """One application: its choices, their priority groups and the home's distances.

    ``distance_m`` and ``by_road`` have one item per school of ``schools``, in order.
    """

    application_id: str
    choices: list[str]
    priority_groups: list[int]
    zone_school: str | None
    distance_m: list[float]
    by_road: list[bool]


class FrozenInputs(BaseModel):
    """Everything a placement run was computed from, as stored and hashed."""

    format: int
    round: FrozenRound
    method: str
    mechanism: str
    seed: int
    mode: str
    road_extract_sha256: str
    zone_version: FrozenZoneVersion | None
    priority_groups: list[str]
    schools: list[FrozenSchool]
    applications: list[FrozenApplication]


@dataclass(frozen=True, slots=True, eq=False)
class PlacementInputs:
    """Everything a run gives the placement core, with what is needed to explain it.

    Attributes
    ----------
    round
        The round.
    applications
        Its applications, in the order received (row ``i`` of every array).
    schools
        The schools with their seats, by code (column ``s``).
    choices
        ``(n, k)`` school indices of each child's choices, -1 padded.
    groups
        ``(n, k)`` priority group of each choice (index into ``group_names``).
    group_names
        The rule of each priority group, highest first.
    distance_m
        ``(n, n_schools)`` walking distance from each home to each school, metres.
    by_road
        ``(n, n_schools)`` whether the distance is by road (else straight line: no route).
    zone_school
        The school of each home's zone (``None`` without a zone version).
    zone_version
        The round's zone version.
    road_extract_sha256
        The road extract the distances were measured on.
    """

    round: RoundRecord
    applications: tuple[ApplicationRecord, ...]
    schools: tuple[SchoolSeats, ...]
    choices: IntArray
    groups: IntArray
    group_names: tuple[str, ...]
    distance_m: FloatArray
    by_road: BoolArray
    zone_school: tuple[str | None, ...]
    zone_version: ZoneVersionRecord | None
    road_extract_sha256: str

    def choice_distance_m(self) -> FloatArray:
        """Return the ``(n, k)`` distances to each choice (0 where there is none)."""
        rows = np.arange(self.choices.shape[0])[:, None]
        distance = self.distance_m[rows, np.maximum(self.choices, 0)]
        return np.where(self.choices >= 0, distance, 0.0)

    def frozen(self, *, method: RunMethod, seed: int) -> FrozenInputs:
        """Return the inputs as the run stores them."""
        codes = [s.code for s in self.schools]
        version = self.zone_version
        return FrozenInputs(
            format=INPUTS_FORMAT,
            round=FrozenRound(
                id=self.round.id,
                district_code=self.round.district_code,
                year=self.round.year,
                max_choices=self.round.max_choices,
                rules=list(self.round.rules),
                priority_categories=sorted(self.round.priority_categories),
            ),
            method=method,
            mechanism=MECHANISM_OF[method],
            seed=seed,
            mode=MODE,
            road_extract_sha256=self.road_extract_sha256,
            zone_version=None
            if version is None
            else FrozenZoneVersion(
                id=version.id, name=version.name, inputs_hash=version.inputs_hash
            ),
            priority_groups=list(self.group_names),
            schools=[
                FrozenSchool(code=s.code, seats=s.seats, seats_source=s.source)
                for s in self.schools
            ],
            applications=[
                FrozenApplication(
                    application_id=application.application_id,
                    choices=[codes[s] for s in self.choices[i] if s >= 0],
                    priority_groups=[
                        int(g)
                        for g, s in zip(self.groups[i], self.choices[i], strict=True)
                        if s >= 0
                    ],
                    zone_school=self.zone_school[i],
                    distance_m=[float(d) for d in self.distance_m[i]],
                    by_road=[bool(b) for b in self.by_road[i]],
                )
                for i, application in enumerate(self.applications)
            ],
        )


__all__ = [
    "INPUTS_FORMAT",
    "MODE",
    "FrozenApplication",
    "FrozenInputs",
    "FrozenRound",
    "FrozenSchool",
    "FrozenZoneVersion",
    "PlacementInputs",
    "SchoolSeats",
    "school_seats",
]
