"""Zone statistics per method, side by side.

For every zoning: child-weighted mean, median and 90th percentile of the distance and
time to the zone school per travel mode; the share of children within 1 km and 2 km on
foot; seats minus children per school; children whose zone school is not their nearest;
children without a seat; enclaves. Percentiles are child-weighted lower quantiles: the
smallest value that at least that share of the children reach.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from enrolment import _validate
from enrolment.errors import InvalidInputError
from enrolment.types import FloatArray, MethodStatistics, ModeStatistics, TravelCosts, Zoning
from enrolment.zoning import nearest_school

#: Walking distances whose shares are reported, metres.
WALK_LIMITS_M = (1_000.0, 2_000.0)


def weighted_quantile(values: FloatArray, weights: FloatArray, share: float) -> float:
    """Return the smallest value that at least ``share`` of the total weight reaches.

    ``nan`` when the weights add up to zero.
    """
    total = float(weights.sum())
    if total <= 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    reached = np.cumsum(weights[order])
    index = int(np.searchsorted(reached, share * total * (1 - 1e-12), side="left"))
    return float(values[order][min(index, order.size - 1)])


def _mode_statistics(zoning: Zoning, costs: TravelCosts) -> ModeStatistics:
    rows = np.flatnonzero(zoning.assigned)
    distance = _validate.cost_matrix(costs.distance_m, field=f"{costs.mode}.distance_m")
    duration = _validate.cost_matrix(costs.duration_s, field=f"{costs.mode}.duration_s")
    expected = (zoning.school.shape[0], zoning.n_schools)
    if distance.shape != expected or duration.shape != expected:
        msg = f"expected {expected} matrices, got {distance.shape} and {duration.shape}"
        raise InvalidInputError(msg, field=costs.mode)
    metres = distance[rows, zoning.school[rows]]
    seconds = duration[rows, zoning.school[rows]]
    weights = zoning.children[rows]
    reach = np.isfinite(metres) & np.isfinite(seconds)
    metres, seconds, counted = metres[reach], seconds[reach], weights[reach]
    total = float(counted.sum())

    def mean(values: FloatArray) -> float:
        return float(np.dot(values, counted) / total) if total > 0 else float("nan")

    return ModeStatistics(
        mode=costs.mode,
        mean_distance_m=mean(metres),
        median_distance_m=weighted_quantile(metres, counted, 0.5),
        p90_distance_m=weighted_quantile(metres, counted, 0.9),
        mean_duration_s=mean(seconds),
        median_duration_s=weighted_quantile(seconds, counted, 0.5),
        p90_duration_s=weighted_quantile(seconds, counted, 0.9),
        no_route_children=float(weights[~reach].sum()),
    )


def zone_statistics(
    zoning: Zoning,
    *,
    cost_m: FloatArray,
    costs: Sequence[TravelCosts] = (),
    walk_mode: str = "walk",
) -> MethodStatistics:
    """Return the figures of one zoning.

    Parameters
    ----------
    zoning
        The zoning.
    cost_m
        The cost matrix it was computed from (metres), which defines "nearest".
    costs
        Distance and time matrices per travel mode, for the travel statistics.
    walk_mode
        The mode whose distances give the shares within 1 km and 2 km (``nan`` if absent).

    Returns
    -------
    MethodStatistics
        The figures.

    Raises
    ------
    InvalidInputError
        If a matrix does not match the zoning's points and schools.
    """
    cost = _validate.cost_matrix(cost_m, field="cost_m")
    if cost.shape != (zoning.school.shape[0], zoning.n_schools):
        msg = f"expected shape {(zoning.school.shape[0], zoning.n_schools)}, got {cost.shape}"
        raise InvalidInputError(msg, field="cost_m")
    assigned = zoning.assigned
    children = zoning.children
    nearest = nearest_school(cost)
    routed = zoning.routed
    not_nearest = routed & (zoning.school != nearest)
    # a tie with the nearest is not "not nearest"
    rows = np.flatnonzero(not_nearest)
    tied = cost[rows, zoning.school[rows]] <= cost[rows, nearest[rows]]
    not_nearest[rows[tied]] = False
    modes = tuple(_mode_statistics(zoning, c) for c in costs)
    shares = [float("nan")] * len(WALK_LIMITS_M)
    walk = [c for c in costs if c.mode == walk_mode]
    seated_total = float(children[assigned].sum())
    if walk and seated_total > 0:
        rows = np.flatnonzero(assigned)
        metres = np.asarray(walk[0].distance_m, dtype=np.float64)[rows, zoning.school[rows]]
        shares = [
            float(children[rows][metres <= limit].sum()) / seated_total for limit in WALK_LIMITS_M
        ]
    enclaves = [b for b in zoning.breaks if b.reason != "detached"]
    return MethodStatistics(
        method=zoning.method,
        children=float(children.sum()),
        placed_children=float(zoning.placed.sum()),
        shortfall_children=float(zoning.shortfall.sum()),
        unassigned_children=float(children[~assigned].sum()),
        no_route_children=float(children[assigned & ~routed].sum()),
        total_distance_m=zoning.total_distance_m,
        within_1km_walk_share=shares[0],
        within_2km_walk_share=shares[1],
        not_nearest_children=float(children[not_nearest].sum()),
        enclaves=len(enclaves),
        enclave_children=float(sum(b.children for b in enclaves)),
        modes=modes,
        school_children=zoning.school_children(),
        school_seats=zoning.seats.copy(),
    )


def comparison_table(statistics: Sequence[MethodStatistics]) -> pd.DataFrame:
    """Return the methods side by side: one row per figure, one column per method.

    Parameters
    ----------
    statistics
        The figures of each method (:func:`zone_statistics`).

    Returns
    -------
    pandas.DataFrame
        Index: figure names with their units (``mean_distance_m.walk``...); columns: methods.
    """
    columns: dict[str, dict[str, float]] = {}
    for stats in statistics:
        row: dict[str, float] = {
            "children": stats.children,
            "placed_children": stats.placed_children,
            "shortfall_children": stats.shortfall_children,
            "unassigned_children": stats.unassigned_children,
            "no_route_children": stats.no_route_children,
            "total_distance_m": stats.total_distance_m,
            "within_1km_walk_share": stats.within_1km_walk_share,
            "within_2km_walk_share": stats.within_2km_walk_share,
            "not_nearest_children": stats.not_nearest_children,
            "enclaves": float(stats.enclaves),
            "enclave_children": stats.enclave_children,
            "schools_over_capacity": float((stats.seats_minus_children < -1e-9).sum()),
        }
        for mode in stats.modes:
            for name in (
                "mean_distance_m",
                "median_distance_m",
                "p90_distance_m",
                "mean_duration_s",
                "median_duration_s",
                "p90_duration_s",
                "no_route_children",
            ):
                row[f"{name}.{mode.mode}"] = float(getattr(mode, name))
        columns[stats.method] = row
    table = pd.DataFrame(columns)
    table.index.name = "figure"
    return table


def school_table(statistics: Sequence[MethodStatistics], school_ids: Sequence[str]) -> pd.DataFrame:
    """Return children and seats minus children per school, one column pair per method.

    Parameters
    ----------
    statistics
        The figures of each method.
    school_ids
        School codes by column index.

    Returns
    -------
    pandas.DataFrame
        Index ``school_id``; columns ``seats`` and, per method, ``children.<method>`` and
        ``seats_minus_children.<method>``.
    """
    table = pd.DataFrame(index=pd.Index([str(s) for s in school_ids], name="school_id"))
    if statistics:
        table["seats"] = statistics[0].school_seats
    for stats in statistics:
        table[f"children.{stats.method}"] = stats.school_children
        table[f"seats_minus_children.{stats.method}"] = stats.seats_minus_children
    return table
