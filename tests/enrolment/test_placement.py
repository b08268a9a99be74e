"""Placement on small hand-made instances whose answers are written out."""

from __future__ import annotations

import numpy as np
import pytest

from enrolment import (
    MAX_PRIORITY_GROUP,
    UNASSIGNED,
    Applications,
    ChoiceOutcome,
    InvalidInputError,
    NearestSchools,
    lottery_numbers,
    place_applicants,
    rank_applicants,
)

A, B, C, D = 0, 1, 2, 3


def ranked_by_school(
    choices: list[list[int]], school_order: dict[int, list[int]], *, seed: int = 0
) -> Applications:
    """Applications where each school ranks its applicants as listed (groups 0, 1, 2...)."""
    width = max(len(row) for row in choices)
    padded = np.array([row + [-1] * (width - len(row)) for row in choices])
    group = np.array(
        [[school_order[s].index(c) if s >= 0 else 0 for s in row] for c, row in enumerate(padded)]
    )
    return Applications(
        choices=padded, priority_group=group, distance_m=np.zeros(padded.shape), seed=seed
    )


def test_classic_instance_gives_the_child_optimal_matching() -> None:
    # children 0, 1, 2 = a, b, c; schools X, Y, Z = A, B, C, one seat each
    applications = ranked_by_school(
        [[A, B, C], [B, A, C], [A, B, C]],
        {A: [1, 0, 2], B: [0, 1, 2], C: [0, 1, 2]},
    )
    placement = place_applicants(applications, [1, 1, 1])
    # the school-optimal stable matching would be b-X, a-Y, c-Z
    known = [A, B, C]
    assert placement.school.tolist() == known
    assert placement.choice_position.tolist() == [0, 0, 2]
    assert not placement.guaranteed.any()
    assert placement.seats_left.tolist() == [0, 0, 0]


def test_a_school_with_two_seats_takes_its_two_best_applicants() -> None:
    applications = ranked_by_school([[A, B], [A, B], [A, B]], {A: [2, 0, 1], B: [0, 1, 2]})
    placement = place_applicants(applications, [2, 1])
    assert placement.school.tolist() == [A, B, A]
    assert placement.cutoff.child.tolist() == [0, 1]
    assert placement.cutoff.rank.tolist() == [1, 1]


def test_a_child_is_bumped_by_a_higher_priority_child_who_applies_later() -> None:
    # child 0 is held at A until child 1 (zone, group 0) applies; group beats distance
    applications = Applications(
        choices=np.array([[A, B], [A, B]]),
        priority_group=np.array([[3, 3], [0, 3]]),
        distance_m=np.array([[500.0, 900.0], [1_200.0, 700.0]]),
        seed=3,
    )
    placement = place_applicants(applications, [1, 1])
    assert placement.school.tolist() == [B, A]
    explanation = placement.explain(0)
    assert explanation.school == B
    assert explanation.choice_position == 1
    first, second = explanation.choices
    assert first.outcome is ChoiceOutcome.BELOW_CUTOFF
    assert (first.priority_group, first.distance_m) == (3, 500.0)
    assert (first.cutoff_group, first.cutoff_distance_m) == (0, 1_200.0)
    assert second.outcome is ChoiceOutcome.PLACED
    assert placement.explain(1).choices[1].outcome is ChoiceOutcome.NOT_NEEDED


def test_distance_then_lottery_break_ties_within_a_group() -> None:
    nearer = Applications(
        choices=np.array([[A], [A]]),
        priority_group=np.array([[1], [1]]),
        distance_m=np.array([[800.0], [799.5]]),
        seed=0,
    )
    assert place_applicants(nearer, [1]).school.tolist() == [UNASSIGNED, A]
    for seed in range(6):
        lottery = lottery_numbers(2, seed)
        equal = Applications(
            choices=np.array([[A], [A]]),
            priority_group=np.array([[1], [1]]),
            distance_m=np.array([[800.0], [800.0]]),
            seed=seed,
        )
        winner = int(np.argmin(lottery))
        placement = place_applicants(equal, [1])
        assert placement.school[winner] == A
        assert placement.cutoff.lottery[A] == lottery[winner]


def test_rank_applicants_orders_by_group_then_distance_then_lottery() -> None:
    applications = Applications(
        choices=np.array([[A], [A], [A], [A], [B]]),
        priority_group=np.array([[2], [0], [2], [2], [0]]),
        distance_m=np.array([[300.0], [900.0], [100.0], [300.0], [50.0]]),
        seed=11,
    )
    ranking = rank_applicants(applications, 2)
    lottery = applications.lottery
    tied = [0, 3] if lottery[0] < lottery[3] else [3, 0]
    assert ranking.applicants(A).tolist() == [1, 2, *tied]
    assert ranking.applicants(B).tolist() == [4]
    assert ranking.rank[:, 0].tolist() == [[1, 2, *tied].index(c) for c in range(4)] + [0]


def test_the_guarantee_seats_the_unplaced_at_the_nearest_school_with_a_free_seat() -> None:
    # all three want A (one seat); B has no seats, C and D one each, C nearer for everyone
    distance = np.array(
        [
            [100.0, 200.0, 300.0, 400.0],
            [100.0, 200.0, 300.0, 400.0],
            [150.0, 250.0, 320.0, 350.0],
        ]
    )
    nearest = NearestSchools.from_distance_matrix(distance)
    assert nearest.school.tolist() == [[A, B, C, D]] * 3
    firsts = set()
    for seed in range(8):
        applications = ranked_by_school([[A], [A], [A]], {A: [1, 2, 0]}, seed=seed)
        placement = place_applicants(applications, [1, 0, 1, 1], nearest=nearest)
        # children 0 and 2 are seated in lottery order: the first gets C, the second D
        first, second = sorted((0, 2), key=lambda child: applications.lottery[child])
        firsts.add(first)
        assert placement.school[[1, first, second]].tolist() == [A, C, D]
        assert placement.guaranteed.tolist() == [True, False, True]
        assert placement.distance_m[[first, second]].tolist() == [
            distance[first, C],
            distance[second, D],
        ]
        assert placement.seats_left.tolist() == [0, 0, 0, 0]
        explanation = placement.explain(first)
        assert explanation.guaranteed
        assert explanation.choice_position is None
        assert explanation.choices[0].outcome is ChoiceOutcome.BELOW_CUTOFF
        assert placement.statistics().guaranteed_children == 2
    assert firsts == {0, 2}


def test_children_without_a_free_seat_anywhere_are_reported() -> None:
    applications = ranked_by_school([[A], [A], [A], []], {A: [0, 1, 2]}, seed=9)
    nearest = NearestSchools.from_distance_matrix(np.full((4, 2), 500.0))
    placement = place_applicants(applications, [1, 1], nearest=nearest)
    waiting = sorted((1, 2, 3), key=lambda child: applications.lottery[child])
    assert placement.school[0] == A
    assert placement.school[waiting[0]] == B
    assert placement.unseated.tolist() == sorted(waiting[1:])
    stats = placement.statistics()
    assert stats.unseated_children == 2
    assert stats.guaranteed_children == 1
    assert np.isnan(placement.distance_m[waiting[1]])
    assert placement.explain(waiting[1]).school is None
    assert placement.explain(3).choices == ()


def test_without_candidates_the_unplaced_stay_unseated() -> None:
    applications = ranked_by_school([[A], [A]], {A: [1, 0]})
    placement = place_applicants(applications, [1, 5])
    assert placement.school.tolist() == [UNASSIGNED, A]
    assert placement.seats_left.tolist() == [0, 5]


def test_boston_differs_where_a_child_ranks_a_popular_school_second() -> None:
    # child 1 has priority at A but lists it second; child 0 lists A first
    applications = ranked_by_school([[A, B], [B, A], [B, C]], {A: [1, 0], B: [2, 1, 0], C: [2]})
    deferred = place_applicants(applications, [1, 1, 0])
    boston = place_applicants(applications, [1, 1, 0], mechanism="immediate_acceptance")
    assert deferred.school.tolist() == [UNASSIGNED, A, B]
    assert boston.school.tolist() == [A, UNASSIGNED, B]
    # child 1 ranks above A's cut-off (child 0) but A filled in the first round
    outcome = boston.explain(1).choices[1].outcome
    assert outcome is ChoiceOutcome.FILLED_EARLIER
    assert deferred.explain(0).choices[0].outcome is ChoiceOutcome.BELOW_CUTOFF
    assert deferred.explain(2).choices[1].outcome is ChoiceOutcome.NOT_NEEDED
    assert boston.statistics().first_choice_share > deferred.statistics().first_choice_share


def test_a_school_without_seats_is_explained_as_such() -> None:
    applications = ranked_by_school([[A, B]], {A: [0], B: [0]})
    placement = place_applicants(applications, [0, 1])
    choice = placement.explain(0).choices[0]
    assert choice.outcome is ChoiceOutcome.NO_SEATS
    assert choice.cutoff_group is None
    assert placement.cutoff.priority_group.tolist() == [UNASSIGNED, 0]
    assert np.isnan(placement.cutoff.distance_m[A])


def test_statistics_summarise_shares_distances_and_seats() -> None:
    applications = Applications(
        choices=np.array([[A, B], [A, B], [B, -1], [A, -1]]),
        priority_group=np.array([[0, 3], [3, 3], [3, 0], [3, 0]]),
        distance_m=np.array([[100.0, 900.0], [400.0, 600.0], [200.0, 0.0], [800.0, 0.0]]),
        seed=1,
    )
    nearest = NearestSchools(school=np.array([[C]] * 4), distance_m=np.array([[1_000.0]] * 4))
    placement = place_applicants(applications, [1, 2, 3], nearest=nearest)
    stats = placement.statistics()
    assert placement.school.tolist() == [A, B, B, C]
    assert stats.children == 4
    assert stats.first_choice_share == 0.5
    assert stats.any_choice_share == 0.75
    assert stats.mean_choice_distance_m == pytest.approx((100 + 600 + 200) / 3)
    assert stats.mean_distance_m == pytest.approx((100 + 600 + 200 + 1_000) / 4)
    assert stats.admitted.tolist() == [1, 2, 0]
    assert stats.seats_left.tolist() == [0, 0, 2]


def test_the_digest_is_stable_across_reruns_and_sees_the_assignment() -> None:
    def run(seed: int) -> str:
        applications = Applications(
            choices=np.array([[A, B], [A, B], [A, B]]),
            priority_group=np.array([[1, 1], [1, 1], [1, 1]]),
            distance_m=np.full((3, 2), 500.0),
            seed=seed,
        )
        return place_applicants(applications, [1, 1]).digest()

    assert run(4) == run(4)
    assert len(run(4)) == 64
    assert len({run(seed) for seed in range(8)}) > 1


def test_lottery_numbers_come_from_pcg64() -> None:
    expected = np.random.Generator(np.random.PCG64(2024)).random(5)
    assert np.array_equal(lottery_numbers(5, 2024), expected)
    applications = ranked_by_school([[A]] * 5, {A: [0, 1, 2, 3, 4]}, seed=2024)
    assert np.array_equal(applications.lottery, expected)
    assert applications.lottery_order.tolist() == np.argsort(expected).tolist()


def _applications(**changes: object) -> Applications:
    fields: dict[str, object] = {
        "choices": [[A, B], [B, -1]],
        "priority_group": [[0, 1], [2, 0]],
        "distance_m": [[100.0, 200.0], [300.0, np.nan]],
        "seed": 0,
    }
    fields.update(changes)
    return Applications(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"choices": [[A, A], [B, -1]]}, "choices"),
        ({"choices": [[-1, A], [B, -1]]}, "choices"),
        ({"choices": [[A, -2], [B, -1]]}, "choices"),
        ({"choices": [[0.5, 1.0], [1.0, -1.0]]}, "choices"),
        ({"choices": [A, B]}, "choices"),
        ({"choices": np.zeros((2, 0), dtype=int)}, "choices"),
        ({"priority_group": [[0, 1]]}, "priority_group"),
        ({"priority_group": [[0, MAX_PRIORITY_GROUP + 1], [2, 0]]}, "priority_group"),
        ({"priority_group": [[0, -1], [2, 0]]}, "priority_group"),
        ({"distance_m": [[100.0, np.nan], [300.0, 0.0]]}, "distance_m"),
        ({"distance_m": [[100.0, -1.0], [300.0, 0.0]]}, "distance_m"),
        ({"seed": -1}, "seed"),
    ],
)
def test_invalid_applications_are_refused(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as error:
        _applications(**changes)
    assert error.value.field == field


@pytest.mark.parametrize(
    ("seats", "options", "field"),
    [
        ([1, -1], {}, "seats"),
        ([[1, 1]], {}, "seats"),
        ([1.5, 1], {}, "seats"),
        ([1], {}, "choices"),
        ([1, 1], {"mechanism": "lottery"}, "mechanism"),
        (
            [1, 1],
            {"nearest": NearestSchools(school=np.array([[A]]), distance_m=np.array([[1.0]]))},
            "nearest",
        ),
        (
            [1, 1],
            {
                "nearest": NearestSchools(
                    school=np.array([[A], [2]]), distance_m=np.array([[1.0], [1.0]])
                )
            },
            "nearest",
        ),
    ],
)
def test_invalid_placement_inputs_are_refused(
    seats: object, options: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInputError) as error:
        place_applicants(_applications(), seats, **options)  # type: ignore[arg-type]
    assert error.value.field == field


def test_candidates_out_of_distance_order_are_refused() -> None:
    with pytest.raises(InvalidInputError) as error:
        NearestSchools(school=np.array([[A, B]]), distance_m=np.array([[500.0, 400.0]]))
    assert error.value.field == "distance_m"


def test_explaining_a_child_who_does_not_exist_is_refused() -> None:
    placement = place_applicants(_applications(), [1, 1])
    with pytest.raises(InvalidInputError) as error:
        placement.explain(2)
    assert error.value.field == "child"
