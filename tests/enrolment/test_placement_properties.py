"""Property tests: placement on random small instances, checked by brute force and `matching`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from matching.games import HospitalResident

from enrolment import (
    UNASSIGNED,
    Applications,
    ChoiceOutcome,
    NearestSchools,
    Placement,
    PriorityRanking,
    place_applicants,
    rank_applicants,
)

PROPERTY = settings(max_examples=100, deadline=None, derandomize=True)


@dataclass(frozen=True)
class Instance:
    choices: np.ndarray
    priority_group: np.ndarray
    distance_m: np.ndarray
    seats: np.ndarray
    candidates_m: np.ndarray
    seed: int

    def applications(self) -> Applications:
        return Applications(
            choices=self.choices,
            priority_group=self.priority_group,
            distance_m=self.distance_m,
            seed=self.seed,
        )


@st.composite
def instances(draw: st.DrawFn) -> Instance:
    n_children = draw(st.integers(1, 40))
    n_schools = draw(st.integers(1, 8))
    width = draw(st.integers(1, 5))
    rows = []
    for _ in range(n_children):
        listed = draw(st.permutations(range(n_schools)))[: draw(st.integers(0, width))]
        rows.append(list(listed) + [-1] * (width - len(listed)))
    shape = (n_children, width)
    groups = st.lists(st.integers(0, 3), min_size=n_children * width, max_size=n_children * width)
    steps = st.lists(st.integers(0, 4), min_size=n_children * width, max_size=n_children * width)
    # distances in whole 250 m steps, so that ties within a group are common
    distance = 250.0 * np.array(draw(steps), dtype=float).reshape(shape)
    seats = np.array(draw(st.lists(st.integers(0, 5), min_size=n_schools, max_size=n_schools)))
    reach = st.lists(
        st.one_of(st.integers(1, 20).map(lambda v: 100.0 * v), st.just(np.inf)),
        min_size=n_children * n_schools,
        max_size=n_children * n_schools,
    )
    return Instance(
        choices=np.array(rows, dtype=np.int64),
        priority_group=np.array(draw(groups)).reshape(shape),
        distance_m=distance,
        seats=seats,
        candidates_m=np.array(draw(reach)).reshape(n_children, n_schools),
        seed=draw(st.integers(0, 2**32)),
    )


def prefers(instance: Instance, child: int, school: int, placement: Placement) -> bool:
    """Whether ``child`` listed ``school`` above the choice they were placed at."""
    listed = instance.choices[child].tolist()
    if school not in listed:
        return False
    placed_at = int(placement.choice_position[child])
    return placed_at < 0 or listed.index(school) < placed_at


def admitted_from_choices(placement: Placement, school: int) -> np.ndarray:
    return np.flatnonzero((placement.school == school) & (placement.choice_position >= 0))


def matching_resident_optimal(instance: Instance, ranking: PriorityRanking) -> list[int]:
    """School of every child in `matching`'s resident-optimal stable matching (-1: none)."""
    n_schools = instance.seats.shape[0]
    open_schools = [
        s for s in range(n_schools) if instance.seats[s] > 0 and ranking.applicants(s).size
    ]
    resident_prefs = {
        child: [int(s) for s in row if s in open_schools]
        for child, row in enumerate(instance.choices)
    }
    resident_prefs = {child: prefs for child, prefs in resident_prefs.items() if prefs}
    placed = [UNASSIGNED] * instance.choices.shape[0]
    if not resident_prefs:
        return placed
    hospital_prefs = {s: [int(c) for c in ranking.applicants(s)] for s in open_schools}
    capacities = {s: int(instance.seats[s]) for s in open_schools}
    game = HospitalResident.create_from_dictionaries(resident_prefs, hospital_prefs, capacities)
    for hospital, residents in game.solve(optimal="resident").items():
        for resident in residents:
            placed[resident.name] = hospital.name
    return placed


@PROPERTY
@given(instances())
def test_every_school_ranks_by_group_then_distance_then_lottery(instance: Instance) -> None:
    applications = instance.applications()
    ranking = rank_applicants(applications, instance.seats.shape[0])
    for school in range(instance.seats.shape[0]):
        child, position = np.nonzero(instance.choices == school)
        keys = (
            child,
            applications.lottery[child],
            instance.distance_m[child, position],
            instance.priority_group[child, position],
        )
        order = np.lexsort(keys)
        assert ranking.applicants(school).tolist() == child[order].tolist()
        assert (ranking.rank[child[order], position[order]] == np.arange(child.size)).all()
    assert (ranking.rank[instance.choices < 0] == -1).all()


@PROPERTY
@given(instances())
def test_deferred_acceptance_is_stable_non_wasteful_and_within_capacity(
    instance: Instance,
) -> None:
    applications = instance.applications()
    placement = place_applicants(applications, instance.seats)
    ranking = rank_applicants(applications, instance.seats.shape[0])
    seated = placement.school != UNASSIGNED
    assert (placement.choice_position[seated] >= 0).all()
    load = np.bincount(placement.school[seated], minlength=instance.seats.shape[0])
    assert (load <= instance.seats).all()
    assert (placement.seats_left == instance.seats - load).all()
    for child, row in enumerate(instance.choices):
        for position, school in enumerate(row):
            if school < 0 or not prefers(instance, child, school, placement):
                continue
            # no free seat the child asked for is left empty, and nobody below them got in
            assert placement.seats_left[school] == 0
            admitted = admitted_from_choices(placement, school)
            own = ranking.rank[child, position]
            for other in admitted:
                other_position = instance.choices[other].tolist().index(school)
                assert ranking.rank[other, other_position] < own


@PROPERTY
@given(instances())
def test_deferred_acceptance_equals_matchings_resident_optimal_matching(
    instance: Instance,
) -> None:
    applications = instance.applications()
    placement = place_applicants(applications, instance.seats)
    ranking = rank_applicants(applications, instance.seats.shape[0])
    assert placement.school.tolist() == matching_resident_optimal(instance, ranking)


@PROPERTY
@given(instances())
def test_the_same_seed_gives_the_same_placement(instance: Instance) -> None:
    nearest = NearestSchools.from_distance_matrix(instance.candidates_m)
    for mechanism in ("deferred_acceptance", "immediate_acceptance"):
        first = place_applicants(
            instance.applications(), instance.seats, nearest=nearest, mechanism=mechanism
        )
        again = place_applicants(
            instance.applications(), instance.seats.copy(), nearest=nearest, mechanism=mechanism
        )
        assert first.digest() == again.digest()
        for name in ("school", "choice_position", "guaranteed", "outcome", "seats_left"):
            assert np.array_equal(getattr(first, name), getattr(again, name))
        assert np.array_equal(first.distance_m, again.distance_m, equal_nan=True)


@PROPERTY
@given(instances())
def test_the_guarantee_leaves_nobody_out_while_a_candidate_has_a_seat(instance: Instance) -> None:
    applications = instance.applications()
    nearest = NearestSchools.from_distance_matrix(instance.candidates_m)
    before = place_applicants(applications, instance.seats)
    placement = place_applicants(applications, instance.seats, nearest=nearest)
    # the guarantee only adds children: every placement at a choice is kept
    at_choice = before.choice_position >= 0
    assert np.array_equal(placement.school[at_choice], before.school[at_choice])
    assert np.array_equal(placement.guaranteed, (~at_choice) & (placement.school >= 0))
    seated = placement.school != UNASSIGNED
    load = np.bincount(placement.school[seated], minlength=instance.seats.shape[0])
    assert (placement.seats_left == instance.seats - load).all()
    assert (placement.seats_left >= 0).all()
    for child in placement.unseated:
        reachable = nearest.school[child][nearest.school[child] >= 0]
        assert (placement.seats_left[reachable] == 0).all()
    for child in np.flatnonzero(placement.guaranteed):
        school = placement.school[child]
        assert placement.distance_m[child] == instance.candidates_m[child, school]
    stats = placement.statistics()
    assert stats.guaranteed_children + stats.unseated_children == int((~at_choice).sum())


@PROPERTY
@given(instances())
def test_explanations_agree_with_the_cutoffs(instance: Instance) -> None:
    applications = instance.applications()
    ranking = rank_applicants(applications, instance.seats.shape[0])
    placement = place_applicants(applications, instance.seats)
    cutoff = placement.cutoff
    for school in range(instance.seats.shape[0]):
        admitted = admitted_from_choices(placement, school)
        if admitted.size == 0:
            assert cutoff.child[school] == UNASSIGNED
            continue
        last = cutoff.child[school]
        assert last in admitted
        position = instance.choices[last].tolist().index(school)
        assert cutoff.rank[school] == ranking.rank[last, position]
        assert cutoff.priority_group[school] == instance.priority_group[last, position]
        assert cutoff.distance_m[school] == instance.distance_m[last, position]
    for child in range(instance.choices.shape[0]):
        explanation = placement.explain(child)
        for choice in explanation.choices:
            above = (
                explanation.choice_position is None or choice.position < explanation.choice_position
            )
            if not above:
                continue
            # deferred acceptance rejects only for want of seats or of priority
            assert choice.outcome in {ChoiceOutcome.BELOW_CUTOFF, ChoiceOutcome.NO_SEATS}
            if choice.outcome is ChoiceOutcome.BELOW_CUTOFF:
                own = (choice.priority_group, choice.distance_m, applications.lottery[child])
                last = (choice.cutoff_group, choice.cutoff_distance_m, choice.cutoff_lottery)
                assert own > last
            else:
                assert instance.seats[choice.school] == 0


@PROPERTY
@given(instances())
def test_boston_fills_as_many_first_choices_as_possible(instance: Instance) -> None:
    applications = instance.applications()
    deferred = place_applicants(applications, instance.seats)
    boston = place_applicants(applications, instance.seats, mechanism="immediate_acceptance")
    seated = boston.school != UNASSIGNED
    load = np.bincount(boston.school[seated], minlength=instance.seats.shape[0])
    assert (load <= instance.seats).all()
    first_choices = np.bincount(
        instance.choices[:, 0][instance.choices[:, 0] >= 0], minlength=instance.seats.shape[0]
    )
    boston_first = int((boston.choice_position == 0).sum())
    assert boston_first == int(np.minimum(first_choices, instance.seats).sum())
    assert boston_first >= int((deferred.choice_position == 0).sum())
