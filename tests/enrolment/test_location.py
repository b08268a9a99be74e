"""Site suggestion on small hand-made instances whose answers are written out."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from enrolment import (
    InvalidInputError,
    SiteOptions,
    Sites,
    max_covering_sites,
    p_median_sites,
)
from enrolment._transport import solve_transport

# Points on a line (metres): a cluster on the left and one on the right, one child each.
POINTS_M = np.array([0.0, 100.0, 200.0, 1_000.0, 1_100.0, 1_200.0])
# Candidates A, B at the clusters' middles, C, D at their inner ends.
A, B, C, D = 0, 1, 2, 3
CANDIDATES_M = np.array([100.0, 1_100.0, 200.0, 1_000.0])


def line_costs(sites_m: np.ndarray) -> np.ndarray:
    cost_m: np.ndarray = np.abs(POINTS_M[:, None] - sites_m[None, :])
    return cost_m


def only_candidates(seats: list[float], opening_cost: np.ndarray | None = None) -> Sites:
    return Sites(
        existing_seats=np.zeros(0), candidate_seats=np.array(seats), opening_cost=opening_cost
    )


def test_two_of_four_sites_with_room_everywhere_are_the_middles() -> None:
    solution = p_median_sites(
        line_costs(CANDIDATES_M), np.ones(6), sites=only_candidates([9, 9, 9, 9]), new_schools=2
    )
    assert solution.opened.tolist() == [A, B]
    assert solution.total_distance_m == pytest.approx(400.0)
    assert solution.unserved_children == 0
    assert solution.status == "optimal"
    assert solution.bound == pytest.approx(solution.objective)


def test_capacities_force_the_second_best_pair() -> None:
    # A and B hold 2 children each: only C and D (3 seats each) seat all six
    solution = p_median_sites(
        line_costs(CANDIDATES_M), np.ones(6), sites=only_candidates([2, 2, 3, 3]), new_schools=2
    )
    assert solution.opened.tolist() == [C, D]
    assert solution.total_distance_m == pytest.approx(600.0)
    assert solution.unserved_children == pytest.approx(0.0)
    seated = np.bincount(solution.school, weights=solution.children, minlength=4)
    assert seated.tolist() == pytest.approx([0, 0, 3, 3])


def random_instance(seed: int, seats: float) -> tuple[np.ndarray, np.ndarray, Sites]:
    """30 points and 8 sites in a 2 km square: 2 existing schools, 6 candidates."""
    rng = np.random.default_rng(seed)
    points, sites_xy = rng.random((30, 2)) * 2_000, rng.random((8, 2)) * 2_000
    cost = np.hypot(*(points[:, None, :] - sites_xy[None, :, :]).transpose(2, 0, 1))
    children = rng.integers(1, 6, 30).astype(float)
    sites = Sites(existing_seats=np.array([25.0, 25.0]), candidate_seats=np.full(6, seats))
    return cost, children, sites


def with_sites_open(sites: Sites, chosen: tuple[int, ...]) -> tuple[list[int], Sites]:
    """Columns and seats of the existing schools and the chosen candidates, all existing."""
    columns = [*range(sites.n_existing), *(sites.n_existing + c for c in chosen)]
    return columns, Sites(existing_seats=sites.seats[columns], candidate_seats=np.zeros(0))


@pytest.mark.parametrize("formulation", ["strong", "aggregated"])
@pytest.mark.parametrize(("seed", "seats"), [(3, 20.0), (4, 12.0), (5, 30.0)])
def test_p_median_finds_the_brute_force_optimum(formulation: str, seed: int, seats: float) -> None:
    cost, children, sites = random_instance(seed, seats)
    options = SiteOptions(nearest=None, formulation=formulation, mip_rel_gap=0.0)
    solution = p_median_sites(cost, children, sites=sites, new_schools=2, options=options)
    every = {}
    for chosen in itertools.combinations(range(6), 2):
        columns, fixed = with_sites_open(sites, chosen)
        every[chosen] = p_median_sites(cost[:, columns], children, sites=fixed, new_schools=0)
    # each siting's seated children and distance, priced with the model's penalty
    value = {
        chosen: fixed.total_distance_m + solution.penalty_m * fixed.unserved_children
        for chosen, fixed in every.items()
    }
    best = min(value, key=value.__getitem__)
    assert solution.objective == pytest.approx(value[best], rel=1e-6)
    assert solution.unserved_children == pytest.approx(every[best].unserved_children, abs=1e-6)
    assert solution.bound <= solution.objective * (1 + 1e-9)
    assert tuple(solution.opened.tolist()) == best
    if formulation == "strong":  # the Lagrangian bound fixed candidates, and stayed exact
        assert solution.fixed_sites > 0


@pytest.mark.parametrize("seed", [3, 4])
def test_capacitated_covering_finds_the_brute_force_optimum(seed: int) -> None:
    cost, children, sites = random_instance(seed, 15.0)
    solution = max_covering_sites(
        cost, children, sites=sites, new_schools=2, norm_m=600.0, capacitated=True
    )
    covered = {}
    for chosen in itertools.combinations(range(6), 2):
        columns, fixed = with_sites_open(sites, chosen)
        covered[chosen] = max_covering_sites(
            cost[:, columns],
            children,
            sites=fixed,
            new_schools=0,
            norm_m=600.0,
            capacitated=True,
        ).objective
    assert solution.objective == pytest.approx(max(covered.values()), rel=1e-6)
    assert solution.bound >= solution.objective * (1 - 1e-9)


def test_a_shortfall_is_reported_never_hidden() -> None:
    # one new school with 2 seats for 6 children; the last point reaches no site at all
    cost = np.vstack([line_costs(CANDIDATES_M), np.full(4, np.inf)])
    children = np.array([1.0, 1, 1, 1, 1, 1, 2])
    solution = p_median_sites(cost, children, sites=only_candidates([2, 2, 2, 2]), new_schools=1)
    assert solution.served_children == pytest.approx(2.0)
    assert solution.unserved_children == pytest.approx(6.0)
    assert solution.unserved[6] == 2.0
    assert solution.total_distance_m == pytest.approx(100.0)
    # the penalty of the six children no siting can seat stays in the objective
    assert solution.objective == pytest.approx(100.0 + 6 * solution.penalty_m)
    assert solution.gap <= solution.options.mip_rel_gap


def test_existing_schools_stay_open_and_count_in_the_baseline() -> None:
    cost = line_costs(np.array([1_100.0, *CANDIDATES_M[[A, C]]]))
    sites = Sites(existing_seats=np.array([3.0]), candidate_seats=np.array([3.0, 3.0]))
    solution = p_median_sites(cost, np.ones(6), sites=sites, new_schools=1)
    assert solution.opened.tolist() == [0]  # candidate A, column 1
    assert sorted(set(solution.school.tolist())) == [0, 1]
    baseline = solution.baseline
    assert baseline is not None
    assert baseline.opened.size == 0
    assert baseline.unserved_children == pytest.approx(3.0)
    assert solution.gain == pytest.approx(baseline.objective - solution.objective)
    assert solution.gain > 0


@pytest.mark.parametrize("seat_ratio", [1.3, 0.8])
def test_no_new_school_is_the_transportation_problem(seat_ratio: float) -> None:
    rng = np.random.default_rng(11)
    cost = rng.uniform(100, 3_000, (40, 9))
    cost[rng.random(cost.shape) < 0.1] = np.inf
    children = rng.uniform(0, 8, 40)
    share = rng.uniform(0.5, 1.5, 5)
    seats = share / share.sum() * children.sum() * seat_ratio
    sites = Sites(existing_seats=seats, candidate_seats=np.full(4, 30.0))
    solution = p_median_sites(cost, children, sites=sites, new_schools=0)
    transport = solve_transport(cost[:, :5], children, seats)
    assert solution.opened.size == 0
    # the transportation problem's overflow is the p-median's unserved children
    assert solution.unserved_children == pytest.approx(float(transport.overflow.sum()), abs=1e-6)
    if seat_ratio > 1:
        assert solution.total_distance_m == pytest.approx(transport.distance_m, rel=1e-3)
        assert solution.total_distance_m >= transport.lower_bound_m * (1 - 1e-9)
    baseline = solution.baseline
    assert baseline is not None
    assert baseline.objective == pytest.approx(solution.objective)


def test_a_budget_allows_at_most_k_sites_it_can_pay_for() -> None:
    cost = line_costs(CANDIDATES_M)
    sites = only_candidates([9, 9, 9, 9], opening_cost=np.array([5.0, 2.0, 1.0, 3.0]))
    paid = p_median_sites(cost, np.ones(6), sites=sites, new_schools=2, budget=6.0)
    assert paid.opened.tolist() == [B, C]  # {A, B} would cost 7
    assert paid.total_distance_m == pytest.approx(500.0)
    one = p_median_sites(cost, np.ones(6), sites=sites, new_schools=2, budget=1.0)
    assert one.opened.tolist() == [C]


def test_nearest_restricts_the_assignment_to_the_nearest_candidates() -> None:
    cost = line_costs(CANDIDATES_M)
    # with one candidate per point, the right cluster may only use D, and D only it
    solution = p_median_sites(
        cost,
        np.ones(6),
        sites=only_candidates([9, 9, 9, 9]),
        new_schools=2,
        options=SiteOptions(nearest=1),
    )
    nearest = np.argmin(cost, axis=1)
    assert (solution.school == nearest[solution.point]).all()
    assert (
        solution.n_variables
        < p_median_sites(
            cost, np.ones(6), sites=only_candidates([9, 9, 9, 9]), new_schools=2
        ).n_variables
    )


def test_the_gap_is_within_the_requested_gap() -> None:
    rng = np.random.default_rng(5)
    cost = rng.uniform(50, 2_500, (120, 43))
    children = rng.uniform(0.5, 6, 120)
    sites = Sites(existing_seats=np.full(3, 60.0), candidate_seats=np.full(40, 70.0))
    for formulation in ("strong", "aggregated"):
        options = SiteOptions(nearest=15, formulation=formulation, mip_rel_gap=0.02)
        solution = p_median_sites(cost, children, sites=sites, new_schools=4, options=options)
        assert solution.status == "optimal"
        assert 0 <= solution.gap <= 0.02
        assert solution.bound <= solution.objective + 1e-6
        assert solution.opened.size == 4


def covering_instance() -> tuple[np.ndarray, np.ndarray, Sites]:
    # candidates at 100 m (3 seats), 1,100 m (2 seats) and 1,000 m (6 seats)
    cost = line_costs(np.array([100.0, 1_100.0, 1_000.0]))
    children = np.array([1.0, 1, 1, 5, 1, 1])
    return cost, children, only_candidates([3, 2, 6])


def test_maximal_covering_picks_the_site_covering_most_children() -> None:
    cost, children, sites = covering_instance()
    solution = max_covering_sites(cost, children, sites=sites, new_schools=1, norm_m=100.0)
    assert solution.opened.tolist() == [1]
    assert solution.objective == pytest.approx(7.0)
    assert solution.unserved.tolist() == [1, 1, 1, 0, 0, 0]
    assert solution.school.tolist() == [1, 1, 1]
    assert solution.gap <= solution.options.mip_rel_gap
    assert solution.baseline is not None
    assert solution.baseline.objective == 0
    assert solution.gain == pytest.approx(7.0)


def test_capacitated_covering_needs_a_seat_within_the_norm() -> None:
    cost, children, sites = covering_instance()
    solution = max_covering_sites(
        cost, children, sites=sites, new_schools=1, norm_m=100.0, capacitated=True
    )
    assert solution.opened.tolist() == [2]
    assert solution.objective == pytest.approx(6.0)
    assert solution.unserved_children == pytest.approx(4.0)


def test_covering_counts_the_existing_schools() -> None:
    cost, children, _ = covering_instance()
    sites = Sites(
        existing_seats=np.array([9.0]), candidate_seats=np.array([9.0, 9.0])
    )  # existing: at 100 m
    solution = max_covering_sites(cost, children, sites=sites, new_schools=1, norm_m=100.0)
    assert solution.opened.tolist() == [0]  # the site at 1,100 m, column 1
    assert solution.objective == pytest.approx(10.0)
    assert solution.baseline is not None
    assert solution.baseline.objective == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cost_m": np.ones((6, 3))}, "cost_m"),
        ({"cost_m": np.full((6, 4), np.nan)}, "cost_m"),
        ({"cost_m": -np.ones((6, 4))}, "cost_m"),
        ({"children": -np.ones(6)}, "children"),
        ({"children": np.ones(5)}, "children"),
        ({"new_schools": 5}, "new_schools"),
        ({"new_schools": -1}, "new_schools"),
        ({"new_schools": True}, "new_schools"),
        ({"new_schools": 1.5}, "new_schools"),
        ({"budget": 3.0}, "budget"),
    ],
)
def test_invalid_inputs_raise(change: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "cost_m": line_costs(CANDIDATES_M),
        "children": np.ones(6),
        "sites": only_candidates([2, 2, 3, 3]),
        "new_schools": 2,
    } | change
    with pytest.raises(InvalidInputError) as raised:
        p_median_sites(**arguments)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_invalid_sites_options_and_norm_raise() -> None:
    with pytest.raises(InvalidInputError, match="existing_seats: expected a 1-D array"):
        Sites(existing_seats=np.ones((2, 2)), candidate_seats=np.array([1.0]))
    with pytest.raises(InvalidInputError, match="candidate_seats: values must be finite"):
        Sites(existing_seats=np.array([1.0]), candidate_seats=np.array([np.inf]))
    with pytest.raises(InvalidInputError, match="opening_cost: expected shape"):
        Sites(
            existing_seats=np.array([1.0]),
            candidate_seats=np.array([1.0]),
            opening_cost=np.array([1.0, 2.0]),
        )
    with pytest.raises(InvalidInputError, match="nearest: must be at least 1"):
        SiteOptions(nearest=0)
    with pytest.raises(InvalidInputError, match="unknown formulation 'tight'"):
        SiteOptions(formulation="tight")
    with pytest.raises(InvalidInputError, match="mip_rel_gap"):
        SiteOptions(mip_rel_gap=1.0)
    with pytest.raises(InvalidInputError, match="time_limit_s"):
        SiteOptions(time_limit_s=0.0)
    with pytest.raises(InvalidInputError, match="max_distance_m"):
        SiteOptions(max_distance_m=-1.0)
    cost, children, sites = covering_instance()
    with pytest.raises(InvalidInputError, match="norm_m: must be a positive finite distance"):
        max_covering_sites(cost, children, sites=sites, new_schools=1, norm_m=np.inf)
    with pytest.raises(InvalidInputError, match="cannot open exactly 4 new schools among 3"):
        max_covering_sites(cost, children, sites=sites, new_schools=4, norm_m=100.0)
