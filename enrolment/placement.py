"""First-grade admission: place children at the schools they chose, by priority and seats.

Every child lists up to ``k`` schools, best first. Every school ranks the children who
applied to it by a strict order built from three keys, compared in turn:

1. the *priority group* of the child at that school (lower first), which the caller
   computes from the district's rule set, e.g. 0 = lives in the school's published zone,
   1 = has a sibling there, 2 = a priority category, 3 = everyone else;
2. the road distance from home to the school, metres (shorter first);
3. the child's lottery number, drawn once per child from the run's seed with
   ``numpy.random.Generator(PCG64(seed)).random(n_children)`` (smaller first; equal
   numbers, which practically never occur, go to the lower child index).

The same child has the same lottery number at every school (single tie-breaking).

Children are placed by child-proposing deferred acceptance (Gale-Shapley): the result is
stable (no child and school would both rather be together), wastes no seat a child asked
for, is the best stable placement for every child, and no family can gain by listing its
choices in any other order than its true preference. The immediate-acceptance (Boston)
mechanism is offered on the same inputs for comparison only: it admits round by round and
rewards listing a school first, so it is neither stable nor safe for families.

The guarantee step then seats every child not placed at any of their choices at the
nearest school (by road) that still has a free seat, taking children in lottery order
(smallest number first). Candidate schools are given per child, nearest first
(:class:`NearestSchools`). Children who still find no seat are reported
(:attr:`Placement.unseated`), never dropped.

Every child gets an explanation: the school and choice they were placed at and, for each
higher choice, why not, with that school's cut-off (the priority group, distance and
lottery number of the last child it admitted from its applicants). The result is exactly
deterministic: the same inputs and seed give byte-identical arrays and the same
:meth:`Placement.digest`.
"""

from __future__ import annotations

import hashlib
import operator
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from enrolment import _admission
from enrolment.errors import InvalidInputError
from enrolment.types import UNASSIGNED, BoolArray, FloatArray, IntArray

Int8Array = npt.NDArray[np.int8]

#: Largest priority group accepted (groups are small integers, lower = higher priority).
MAX_PRIORITY_GROUP = 99

_ADMISSIONS = {
    "deferred_acceptance": _admission.deferred_acceptance,
    "immediate_acceptance": _admission.immediate_acceptance,
}
#: Names of the placement mechanisms: deferred acceptance, and Boston for comparison.
MECHANISMS = tuple(_ADMISSIONS)


class ChoiceOutcome(IntEnum):
    """What became of one of a child's choices."""

    #: The child was placed at this choice.
    PLACED = 0
    #: The school filled its seats with children ranked above this child (see its cut-off).
    BELOW_CUTOFF = 1
    #: The school had no seats.
    NO_SEATS = 2
    #: Immediate acceptance only: the school filled in an earlier round with children who
    #: listed it higher, although this child ranks above its cut-off.
    FILLED_EARLIER = 3
    #: A lower choice than the one the child was placed at, so not needed.
    NOT_NEEDED = 4
    #: No school at this position of the list (padding).
    NO_CHOICE = 5


def lottery_numbers(n_children: int, seed: int) -> FloatArray:
    """Return every child's lottery number, uniform in ``[0, 1)``, from ``seed``.

    Parameters
    ----------
    n_children
        Number of children.
    seed
        Seed of the run (stored with the result): ``numpy.random.PCG64(seed)``.

    Returns
    -------
    numpy.ndarray
        ``(n_children,)`` lottery numbers; the smaller number wins a tie.
    """
    return np.random.Generator(np.random.PCG64(seed)).random(n_children)


@dataclass(frozen=True, slots=True, eq=False)
class Applications:
    """Every child's ranked choices and their priority at each choice.

    Attributes
    ----------
    choices
        ``(n_children, k)`` school indices, best choice first, padded with -1 at the end
        of each row; a school appears at most once in a row.
    priority_group
        ``(n_children, k)`` the child's priority group at each choice, an integer from 0
        to :data:`MAX_PRIORITY_GROUP`, lower first (ignored where there is no choice).
    distance_m
        ``(n_children, k)`` road distance from the child's home to each choice, metres
        (ignored where there is no choice).
    seed
        Seed of the lottery.
    lottery
        ``(n_children,)`` lottery numbers from :func:`lottery_numbers` (computed).
    lottery_order
        ``(n_children,)`` the children by lottery number, smallest first, ties to the
        lower index (computed).

    Raises
    ------
    InvalidInputError
        If an array has the wrong shape or a value breaks the contract above.
    """

    choices: IntArray
    priority_group: IntArray
    distance_m: FloatArray
    seed: int
    lottery: FloatArray = field(init=False)
    lottery_order: IntArray = field(init=False)

    def __post_init__(self) -> None:
        """Check the arrays, store them as int64/float64, and draw the lottery."""
        choices = _choice_rows(self.choices, field="choices")
        if choices.shape[1] == 0:
            msg = "expected at least one choice column"
            raise InvalidInputError(msg, field="choices")
        valid = choices >= 0
        group = _integers(self.priority_group, field="priority_group")
        distance = np.ascontiguousarray(self.distance_m, dtype=np.float64)
        for name, array in (("priority_group", group), ("distance_m", distance)):
            if array.shape != choices.shape:
                msg = f"expected shape {choices.shape} (as choices), got {array.shape}"
                raise InvalidInputError(msg, field=name)
        _check_all(
            (group >= 0) & (group <= MAX_PRIORITY_GROUP) | ~valid,
            f"groups must be integers from 0 to {MAX_PRIORITY_GROUP}",
            field="priority_group",
        )
        _check_all(
            np.isfinite(distance) & (distance >= 0) | ~valid,
            "distances must be finite and non-negative",
            field="distance_m",
        )
        seed = operator.index(self.seed)
        if seed < 0:
            msg = f"the seed must be a non-negative integer, got {seed}"
            raise InvalidInputError(msg, field="seed")
        lottery = lottery_numbers(choices.shape[0], seed)
        for name, value in (
            ("choices", choices),
            ("priority_group", group),
            ("distance_m", distance),
            ("seed", seed),
            ("lottery", lottery),
            ("lottery_order", np.argsort(lottery, kind="stable").astype(np.int64)),
        ):
            object.__setattr__(self, name, value)

    @property
    def n_children(self) -> int:
        """Number of children (rows)."""
        return int(self.choices.shape[0])


@dataclass(frozen=True, slots=True, eq=False)
class PriorityRanking:
    """Every school's strict ranking of the children who applied to it.

    An application is a (child, choice) pair, numbered ``child * k + choice``.

    Attributes
    ----------
    rank
        ``(n_children, k)`` position of each application in its school's ranking, 0 for
        the best; -1 where there is no choice.
    school_ptr
        ``(n_schools + 1,)`` the applications of school ``s`` are
        ``application[school_ptr[s]:school_ptr[s + 1]]``.
    application
        Application numbers, school by school, best first.
    """

    rank: IntArray
    school_ptr: IntArray
    application: IntArray

    def applicants(self, school: int) -> IntArray:
        """Return the children who applied to ``school``, best priority first."""
        lo, hi = self.school_ptr[school], self.school_ptr[school + 1]
        return np.floor_divide(self.application[lo:hi], self.rank.shape[1])


def rank_applicants(applications: Applications, n_schools: int) -> PriorityRanking:
    """Build every school's strict ranking: priority group, then distance, then lottery.

    Parameters
    ----------
    applications
        The children's choices and priorities.
    n_schools
        Number of schools; choices must be below it.

    Returns
    -------
    PriorityRanking
        The ranking.

    Raises
    ------
    InvalidInputError
        If a choice is not a school index below ``n_schools``.
    """
    choices = applications.choices
    _check_all(choices < n_schools, f"school indices must be below {n_schools}", field="choices")
    valid = choices >= 0
    n_groups = int(applications.priority_group[valid].max(initial=0)) + 1
    rank, school_ptr, application = _admission.rank_applications(
        choices,
        applications.priority_group,
        applications.distance_m,
        applications.lottery_order,
        n_schools,
        n_groups,
    )
    return PriorityRanking(rank=rank, school_ptr=school_ptr, application=application)


@dataclass(frozen=True, slots=True, eq=False)
class NearestSchools:
    """Candidate schools of the guarantee step for every child, nearest by road first.

    Attributes
    ----------
    school
        ``(n_children, r)`` school indices by increasing road distance, padded with -1 at
        the end of each row.
    distance_m
        ``(n_children, r)`` road distance from the child's home to each school, metres,
        non-decreasing along each row (ignored where there is no school).

    Raises
    ------
    InvalidInputError
        If an array has the wrong shape, a distance is negative, not finite or out of order.
    """

    school: IntArray
    distance_m: FloatArray

    def __post_init__(self) -> None:
        """Check the arrays and store them as int64/float64."""
        school = _choice_rows(self.school, field="school", unique=False)
        distance = np.ascontiguousarray(self.distance_m, dtype=np.float64)
        if distance.shape != school.shape:
            msg = f"expected shape {school.shape} (as school), got {distance.shape}"
            raise InvalidInputError(msg, field="distance_m")
        valid = school >= 0
        _check_all(
            np.isfinite(distance) & (distance >= 0) | ~valid,
            "distances must be finite and non-negative",
            field="distance_m",
        )
        _check_all(
            (distance[:, 1:] >= distance[:, :-1]) | ~valid[:, 1:],
            "schools must be ordered by increasing distance",
            field="distance_m",
        )
        object.__setattr__(self, "school", school)
        object.__setattr__(self, "distance_m", distance)

    @classmethod
    def from_distance_matrix(cls, distance_m: npt.ArrayLike) -> NearestSchools:
        """Return every school each child can reach, nearest first, from a dense matrix.

        Parameters
        ----------
        distance_m
            ``(n_children, n_schools)`` road distances, metres; ``inf`` for no route.
            Equal distances go to the lower school index.

        Returns
        -------
        NearestSchools
            The candidates.
        """
        matrix = np.asarray(distance_m, dtype=np.float64)
        if matrix.ndim != 2 or np.isnan(matrix).any():
            msg = "expected a 2-D (children x schools) matrix of numbers"
            raise InvalidInputError(msg, field="distance_m")
        order = np.argsort(matrix, axis=1, kind="stable")
        ordered = np.take_along_axis(matrix, order, axis=1)
        reachable = np.isfinite(ordered)
        return cls(school=np.where(reachable, order, UNASSIGNED), distance_m=ordered)


@dataclass(frozen=True, slots=True, eq=False)
class SchoolCutoffs:
    """The last (lowest-ranked) child each school admitted from its applicants.

    Children seated by the guarantee step do not count. Schools that admitted no
    applicant hold -1 and ``nan``.

    Attributes
    ----------
    child
        ``(n_schools,)`` the child.
    rank
        ``(n_schools,)`` their position in the school's ranking.
    priority_group
        ``(n_schools,)`` their priority group there.
    distance_m
        ``(n_schools,)`` their road distance to the school, metres.
    lottery
        ``(n_schools,)`` their lottery number.
    """

    child: IntArray
    rank: IntArray
    priority_group: IntArray
    distance_m: FloatArray
    lottery: FloatArray


@dataclass(frozen=True, slots=True)
class ChoiceExplanation:
    """One choice of a child and what became of it.

    Attributes
    ----------
    position
        Position in the child's list, 0 for the first choice.
    school
        The school.
    outcome
        What became of the choice.
    priority_group, distance_m
        The child's priority group at the school and road distance to it, metres.
    cutoff_group, cutoff_distance_m, cutoff_lottery
        The school's cut-off (:class:`SchoolCutoffs`); ``None`` if it admitted nobody.
    """

    position: int
    school: int
    outcome: ChoiceOutcome
    priority_group: int
    distance_m: float
    cutoff_group: int | None
    cutoff_distance_m: float | None
    cutoff_lottery: float | None


@dataclass(frozen=True, slots=True)
class ChildExplanation:
    """Where a child was placed and why not at their higher choices.

    Attributes
    ----------
    child
        The child (row index).
    school
        The school the child was placed at, ``None`` if unseated.
    choice_position
        Position of that school in the child's list, ``None`` if not one of their choices.
    guaranteed
        Whether the seat came from the guarantee step.
    distance_m
        Road distance to the school, metres (``None`` if unseated).
    lottery
        The child's lottery number.
    choices
        Every choice the child listed, in order.
    """

    child: int
    school: int | None
    choice_position: int | None
    guaranteed: bool
    distance_m: float | None
    lottery: float
    choices: tuple[ChoiceExplanation, ...]


@dataclass(frozen=True, slots=True, eq=False)
class PlacementStatistics:
    """Summary figures of a placement.

    Shares are of all children (``nan`` when there are none); means are over the children
    concerned (``nan`` when there are none).

    Attributes
    ----------
    children
        Number of children.
    first_choice_share, any_choice_share
        Share placed at their first choice, and at any of their choices.
    guaranteed_children
        Children seated by the guarantee step.
    unseated_children
        Children left without a seat.
    mean_choice_distance_m
        Mean road distance of the children placed at one of their choices, metres.
    mean_distance_m
        Mean road distance of all seated children (guaranteed ones included), metres.
    admitted
        ``(n_schools,)`` children each school admitted from its applicants.
    seats_left
        ``(n_schools,)`` free seats after the guarantee step.
    """

    children: int
    first_choice_share: float
    any_choice_share: float
    guaranteed_children: int
    unseated_children: int
    mean_choice_distance_m: float
    mean_distance_m: float
    admitted: IntArray
    seats_left: IntArray


@dataclass(frozen=True, slots=True, eq=False)
class Placement:
    """The placement of every child, with what is needed to explain it.

    Attributes
    ----------
    mechanism
        ``"deferred_acceptance"`` or ``"immediate_acceptance"``.
    applications
        The inputs: choices, priorities and seed.
    seats
        ``(n_schools,)`` seats offered by each school.
    school
        ``(n_children,)`` the assignment: school of each child, -1 if unseated.
    choice_position
        ``(n_children,)`` position of that school in the child's list, -1 if the child was
        not placed at one of their choices.
    guaranteed
        ``(n_children,)`` whether the child was seated by the guarantee step.
    distance_m
        ``(n_children,)`` road distance to the school, metres (``nan`` if unseated).
    outcome
        ``(n_children, k)`` :class:`ChoiceOutcome` of every choice.
    cutoff
        Every school's cut-off.
    seats_left
        ``(n_schools,)`` free seats after the guarantee step.
    """

    mechanism: str
    applications: Applications
    seats: IntArray
    school: IntArray
    choice_position: IntArray
    guaranteed: BoolArray
    distance_m: FloatArray
    outcome: Int8Array
    cutoff: SchoolCutoffs
    seats_left: IntArray

    @property
    def unseated(self) -> IntArray:
        """Children left without a seat anywhere."""
        return np.flatnonzero(self.school == UNASSIGNED).astype(np.int64)

    def digest(self) -> str:
        """Return the SHA-256 of the assignment and the cut-offs, as hexadecimal.

        The bytes hashed are, in turn, the assignment, the cut-off groups (little-endian
        int64), the cut-off distances and lottery numbers (little-endian float64, ``nan``
        canonical), each preceded by its length; two runs with the same digest placed
        every child alike for the same reasons.
        """
        digest = hashlib.sha256()
        for values, dtype in (
            (self.school, "<i8"),
            (self.cutoff.priority_group, "<i8"),
            (self.cutoff.distance_m, "<f8"),
            (self.cutoff.lottery, "<f8"),
        ):
            canonical = np.ascontiguousarray(values, dtype=dtype)
            if canonical.dtype.kind == "f":
                canonical = np.where(np.isnan(canonical), np.nan, canonical + 0.0).astype(dtype)
            digest.update(canonical.shape[0].to_bytes(8, "little"))
            digest.update(canonical.tobytes())
        return digest.hexdigest()

    def explain(self, child: int) -> ChildExplanation:
        """Return where ``child`` was placed and why not at each higher choice.

        Parameters
        ----------
        child
            The child's row index.

        Returns
        -------
        ChildExplanation
            The placement and the outcome of every choice, with the schools' cut-offs.

        Raises
        ------
        InvalidInputError
            If there is no such child.
        """
        applications = self.applications
        if not 0 <= child < applications.n_children:
            msg = f"no child {child}: expected 0 to {applications.n_children - 1}"
            raise InvalidInputError(msg, field="child")
        cutoff = self.cutoff
        listed = []
        for position, school in enumerate(applications.choices[child]):
            if school < 0:
                break
            admitted = cutoff.child[school] >= 0
            listed.append(
                ChoiceExplanation(
                    position=position,
                    school=int(school),
                    outcome=ChoiceOutcome(int(self.outcome[child, position])),
                    priority_group=int(applications.priority_group[child, position]),
                    distance_m=float(applications.distance_m[child, position]),
                    cutoff_group=int(cutoff.priority_group[school]) if admitted else None,
                    cutoff_distance_m=float(cutoff.distance_m[school]) if admitted else None,
                    cutoff_lottery=float(cutoff.lottery[school]) if admitted else None,
                )
            )
        seated = self.school[child] != UNASSIGNED
        at_choice = self.choice_position[child] >= 0
        return ChildExplanation(
            child=int(child),
            school=int(self.school[child]) if seated else None,
            choice_position=int(self.choice_position[child]) if at_choice else None,
            guaranteed=bool(self.guaranteed[child]),
            distance_m=float(self.distance_m[child]) if seated else None,
            lottery=float(applications.lottery[child]),
            choices=tuple(listed),
        )

    def statistics(self) -> PlacementStatistics:
        """Return the shares placed, the children guaranteed or unseated, mean distances."""
        n_children = self.school.shape[0]
        at_choice = self.choice_position >= 0
        seated = self.school != UNASSIGNED
        admitted = np.bincount(self.school[at_choice], minlength=self.seats.shape[0])
        return PlacementStatistics(
            children=n_children,
            first_choice_share=_share(int((self.choice_position == 0).sum()), n_children),
            any_choice_share=_share(int(at_choice.sum()), n_children),
            guaranteed_children=int(self.guaranteed.sum()),
            unseated_children=int((~seated).sum()),
            mean_choice_distance_m=_mean(self.distance_m[at_choice]),
            mean_distance_m=_mean(self.distance_m[seated]),
            admitted=admitted.astype(np.int64),
            seats_left=self.seats_left,
        )


def place_applicants(
    applications: Applications,
    seats: npt.ArrayLike,
    *,
    nearest: NearestSchools | None = None,
    mechanism: str = "deferred_acceptance",
) -> Placement:
    """Place every child: their choices by priority, then the guarantee, with explanations.

    Parameters
    ----------
    applications
        The children's choices, priorities and lottery seed.
    seats
        ``(n_schools,)`` first-grade seats of each school, non-negative integers.
    nearest
        Candidate schools of the guarantee step, one row per child (nearest first). The
        children not placed at one of their choices are taken in lottery order, each
        seated at their first candidate with a free seat. Without it, they stay unseated.
    mechanism
        ``"deferred_acceptance"`` (child-proposing, stable: the placement) or
        ``"immediate_acceptance"`` (Boston, for comparison only).

    Returns
    -------
    Placement
        The assignment, cut-offs, outcome of every choice and seats left.

    Raises
    ------
    InvalidInputError
        If the seats, the candidates or the mechanism break their contract, or a choice is
        not a school.
    """
    if mechanism not in _ADMISSIONS:
        msg = f"unknown mechanism {mechanism!r}; expected one of {MECHANISMS}"
        raise InvalidInputError(msg, field="mechanism")
    seat_counts = _integers(seats, field="seats")
    if seat_counts.ndim != 1:
        msg = f"expected a 1-D array of seats per school, got shape {seat_counts.shape}"
        raise InvalidInputError(msg, field="seats")
    _check_all(seat_counts >= 0, "seats must be non-negative", field="seats")
    n_schools = seat_counts.shape[0]
    ranking = rank_applicants(applications, n_schools)
    placed, choice_position, cutoff_rank = _ADMISSIONS[mechanism](
        applications.choices, seat_counts, (ranking.rank, ranking.school_ptr, ranking.application)
    )
    children = np.arange(applications.n_children)
    at_choice = choice_position >= 0
    distance = np.where(
        at_choice, applications.distance_m[children, np.maximum(choice_position, 0)], np.nan
    )
    seats_left = seat_counts - np.bincount(placed[at_choice], minlength=n_schools)
    school = placed
    guaranteed = np.zeros(applications.n_children, dtype=np.bool_)
    if nearest is not None:
        school, seats_left, candidate = _guarantee(applications, nearest, placed, seats_left)
        guaranteed = candidate >= 0
        distance[guaranteed] = nearest.distance_m[children[guaranteed], candidate[guaranteed]]
    return Placement(
        mechanism=mechanism,
        applications=applications,
        seats=seat_counts,
        school=school,
        choice_position=choice_position,
        guaranteed=guaranteed,
        distance_m=distance,
        outcome=_outcomes(applications, ranking, choice_position, seat_counts, cutoff_rank),
        cutoff=_cutoffs(applications, ranking, cutoff_rank),
        seats_left=seats_left,
    )


def _guarantee(
    applications: Applications, nearest: NearestSchools, placed: IntArray, seats_left: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Check the candidates and seat the children without a school (lottery order)."""
    if nearest.school.shape[0] != applications.n_children:
        n_rows = nearest.school.shape[0]
        msg = f"expected {applications.n_children} rows (one per child), got {n_rows}"
        raise InvalidInputError(msg, field="nearest")
    n_schools = seats_left.shape[0]
    _check_all(
        nearest.school < n_schools, f"school indices must be below {n_schools}", field="nearest"
    )
    return _admission.seat_nearest(applications.lottery_order, nearest.school, placed, seats_left)


def _outcomes(
    applications: Applications,
    ranking: PriorityRanking,
    choice_position: IntArray,
    seats: IntArray,
    cutoff_rank: IntArray,
) -> Int8Array:
    """Return the :class:`ChoiceOutcome` of every (child, choice)."""
    choices = applications.choices
    school = np.maximum(choices, 0)
    position = np.arange(choices.shape[1])[None, :]
    placed_at = choice_position[:, None]
    higher = (placed_at < 0) | (position < placed_at)
    outcome = np.select(
        [
            choices < 0,
            position == placed_at,
            ~higher,
            seats[school] == 0,
            ranking.rank > cutoff_rank[school],
        ],
        [
            ChoiceOutcome.NO_CHOICE,
            ChoiceOutcome.PLACED,
            ChoiceOutcome.NOT_NEEDED,
            ChoiceOutcome.NO_SEATS,
            ChoiceOutcome.BELOW_CUTOFF,
        ],
        default=ChoiceOutcome.FILLED_EARLIER,
    )
    return outcome.astype(np.int8)


def _cutoffs(
    applications: Applications, ranking: PriorityRanking, cutoff_rank: IntArray
) -> SchoolCutoffs:
    """Return the group, distance and lottery number of every school's last admit."""
    admitted = cutoff_rank >= 0
    last = np.zeros(cutoff_rank.shape[0], dtype=np.int64)
    last[admitted] = ranking.application[ranking.school_ptr[:-1][admitted] + cutoff_rank[admitted]]
    width = applications.choices.shape[1]
    child, position = last // width, last % width
    return SchoolCutoffs(
        child=np.where(admitted, child, UNASSIGNED),
        rank=cutoff_rank,
        priority_group=np.where(admitted, applications.priority_group[child, position], UNASSIGNED),
        distance_m=np.where(admitted, applications.distance_m[child, position], np.nan),
        lottery=np.where(admitted, applications.lottery[child], np.nan),
    )


def _integers(values: npt.ArrayLike, *, field: str) -> IntArray:
    """Return ``values`` as a C-contiguous int64 array, or raise if they are not integers."""
    array = np.asarray(values)
    integral = array.dtype.kind in "iu" or array.size == 0
    if not integral and array.dtype.kind == "f":
        integral = bool(np.isfinite(array).all() and (array == np.round(array)).all())
    if not integral:
        msg = f"expected integers, got {array.dtype}"
        raise InvalidInputError(msg, field=field)
    return np.ascontiguousarray(array, dtype=np.int64)


def _choice_rows(values: npt.ArrayLike, *, field: str, unique: bool = True) -> IntArray:
    """Return a ``(n_children, k)`` array of school indices padded with -1 at row ends."""
    rows = _integers(values, field=field)
    if rows.ndim != 2:
        msg = f"expected a 2-D (children x k) array, got shape {rows.shape}"
        raise InvalidInputError(msg, field=field)
    _check_all(rows >= UNASSIGNED, "school indices must be >= 0 (-1 for none)", field=field)
    valid = rows >= 0
    _check_all(valid[:, :-1] | ~valid[:, 1:], "a school follows a -1 in a row", field=field)
    if unique:
        padded = np.where(valid, rows, -2 - np.arange(rows.shape[1]))
        ordered = np.sort(padded, axis=1)
        _check_all(ordered[:, 1:] != ordered[:, :-1], "a school is listed twice", field=field)
    return rows


def _check_all(condition: npt.NDArray[np.bool_], detail: str, *, field: str) -> None:
    """Raise :class:`InvalidInputError` naming the first row where ``condition`` fails."""
    if condition.all():
        return
    row = int(np.argwhere(~condition)[0][0])
    msg = f"{detail} (first at row {row})"
    raise InvalidInputError(msg, field=field)


def _share(count: int, total: int) -> float:
    return count / total if total else float("nan")


def _mean(values: FloatArray) -> float:
    return float(values.mean()) if values.size else float("nan")
