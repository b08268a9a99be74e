"""The legs between snapped points and the network's nodes, in the kernels' array layouts.

A point snapped at fraction ``f`` of edge ``u -> v`` (length ``L``, off-network leg ``d``)
*leaves* the network towards ``v`` at ``(1 - f) L + d`` if the mode may travel the edge
forwards, and towards ``u`` at ``f L + d`` if it may travel it backwards; it is *entered*
from ``u`` at ``f L + d`` (forwards) and from ``v`` at ``(1 - f) L + d`` (backwards).
Times are the same fractions of the edge's travel time plus ``d`` at the mode's
connector speed. Two points on the same edge also reach each other directly along it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from routing._dijkstra import Attachments, TargetAttachments
from routing.network import ModeGraph, RoadNetwork
from routing.snapping import SnappedPoints

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class Legs:
    """Up to two legs per point between the point and a node, point-major.

    Attributes
    ----------
    ptr
        Point ``i``'s legs are entries ``ptr[i]`` to ``ptr[i + 1] - 1``.
    node
        The node at the other end of each leg.
    length_m, time_s
        Length (m) and travel time (s) of each leg, off-network part included.
    """

    ptr: IntArray
    node: Int32Array
    length_m: FloatArray
    time_s: FloatArray

    def costs(self, weight: str) -> tuple[FloatArray, FloatArray]:
        """Return (primary, secondary) costs for searches minimising ``weight``."""
        if weight == "length_m":
            return self.length_m, self.time_s
        return self.time_s, self.length_m

    def seeds(self, weight: str) -> Attachments:
        """Return the legs as search seeds, point-major."""
        first, second = self.costs(weight)
        return self.ptr, self.node, first, second

    def point_of_leg(self) -> IntArray:
        """Return the point each leg belongs to."""
        return np.repeat(np.arange(self.ptr.shape[0] - 1, dtype=np.int64), np.diff(self.ptr))

    def targets(self, weight: str, n_nodes: int) -> TargetAttachments:
        """Return the legs as node-major target attachments (see ``_dijkstra._gather``)."""
        first, second = self.costs(weight)
        point = self.point_of_leg()
        count = np.diff(self.ptr)
        start = self.ptr[:-1]
        is_first = np.ones(point.shape[0], dtype=bool)
        is_first[self.ptr[:-1][count == 2] + 1] = False
        partner = np.where(is_first, np.arange(point.shape[0]) + 1, np.arange(point.shape[0]) - 1)
        has_partner = count[point] == 2
        partner = np.where(has_partner, partner, 0)
        other = np.where(
            has_partner,
            np.where(is_first, self.node[partner], -2 - self.node[start[point]]),
            -1,
        ).astype(np.int32)
        other_c1 = np.where(has_partner, first[partner], np.inf)
        other_c2 = np.where(has_partner, second[partner], np.inf)
        order = np.argsort(self.node, kind="stable")
        ptr = np.zeros(n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.node, minlength=n_nodes), out=ptr[1:])
        return (
            ptr,
            point[order].astype(np.int32),
            first[order],
            second[order],
            other[order],
            other_c1[order],
            other_c2[order],
        )


def point_legs(
    points: SnappedPoints, network: RoadNetwork, arcs: ModeGraph, *, leaving: bool
) -> Legs:
    """Return the legs of snapped points: onto the network (``leaving``) or off it.

    Points that were not snapped get no leg.
    """
    ok = points.ok
    edge = np.where(ok, points.edge, 0)
    fraction = np.where(ok, points.fraction, 0.0)
    length = network.edge_length_m[edge]
    off_length = np.where(ok, points.distance_m, 0.0)
    off_time = off_length / arcs.mode.connector_speed_m_s
    forward_ok = ok & arcs.edge_forward[edge]
    backward_ok = ok & arcs.edge_backward[edge]
    time_forward = arcs.edge_time_s[edge]
    time_backward = arcs.edge_backward_time_s[edge]
    u = network.edge_u[edge]
    v = network.edge_v[edge]
    # (node, share of the edge) for the forward-using leg, then the backward-using leg
    if leaving:
        legs = (
            (forward_ok, v, 1.0 - fraction, time_forward),
            (backward_ok, u, fraction, time_backward),
        )
    else:
        legs = (
            (forward_ok, u, fraction, time_forward),
            (backward_ok, v, 1.0 - fraction, time_backward),
        )
    use = np.column_stack([leg[0] for leg in legs])
    node = np.column_stack([leg[1] for leg in legs])
    share = np.column_stack([leg[2] for leg in legs])
    times = np.column_stack([leg[3] for leg in legs])
    leg_length = share * length[:, None] + off_length[:, None]
    leg_time = share * np.where(use, times, 0.0) + off_time[:, None]
    ptr = np.zeros(len(points) + 1, dtype=np.int64)
    np.cumsum(use.sum(axis=1), out=ptr[1:])
    return Legs(
        ptr=ptr,
        node=node[use].astype(np.int32),
        length_m=leg_length[use],
        time_s=leg_time[use],
    )


@dataclass(frozen=True, slots=True)
class DirectPairs:
    """Origin-destination pairs joined along one edge, without passing a node."""

    origin: IntArray
    destination: IntArray
    length_m: FloatArray
    time_s: FloatArray

    def grouped(self, *, by_destination: bool, n_groups: int, weight: str) -> Attachments:
        """Return ``(ptr, other, cost1, cost2)`` grouped by destination or origin."""
        key, other = (
            (self.destination, self.origin) if by_destination else (self.origin, self.destination)
        )
        first, second = (
            (self.length_m, self.time_s) if weight == "length_m" else (self.time_s, self.length_m)
        )
        order = np.argsort(key, kind="stable")
        ptr = np.zeros(n_groups + 1, dtype=np.int64)
        np.cumsum(np.bincount(key, minlength=n_groups), out=ptr[1:])
        return ptr, other[order].astype(np.int32), first[order], second[order]


def direct_pairs(
    origins: SnappedPoints,
    destinations: SnappedPoints,
    network: RoadNetwork,
    arcs: ModeGraph,
) -> DirectPairs:
    """Return the pairs on the same edge that the mode may travel directly between."""
    o_ok = np.flatnonzero(origins.ok)
    d_ok = np.flatnonzero(destinations.ok)
    d_sorted = d_ok[np.argsort(destinations.edge[d_ok], kind="stable")]
    d_edges = destinations.edge[d_sorted]
    lo = np.searchsorted(d_edges, origins.edge[o_ok], side="left")
    hi = np.searchsorted(d_edges, origins.edge[o_ok], side="right")
    counts = hi - lo
    origin = np.repeat(o_ok, counts)
    starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
    destination = d_sorted[np.arange(counts.sum()) + starts]
    edge = origins.edge[origin]
    f_o = origins.fraction[origin]
    f_d = destinations.fraction[destination]
    forwards = f_d >= f_o
    allowed = np.where(forwards, arcs.edge_forward[edge], arcs.edge_backward[edge])
    share = np.abs(f_d - f_o)
    off_length = origins.distance_m[origin] + destinations.distance_m[destination]
    edge_time = np.where(forwards, arcs.edge_time_s[edge], arcs.edge_backward_time_s[edge])
    length = share * network.edge_length_m[edge] + off_length
    time = share * np.where(allowed, edge_time, 0.0) + off_length / arcs.mode.connector_speed_m_s
    return DirectPairs(
        origin=origin[allowed].astype(np.int64),
        destination=destination[allowed].astype(np.int64),
        length_m=length[allowed],
        time_s=time[allowed],
    )
