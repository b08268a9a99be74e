"""Snapping points (homes, schools, demand points) onto the nearest road *edge*.

A point is projected onto the nearest edge its travel mode may use (ferries excluded), at
a fraction of the edge's length; the straight off-network leg between the point and the
road is kept, so a home in the middle of a block is charged its walk to the road plus the
partial edge to the next junction. Points farther than ``max_distance_m`` from every usable
road are not snapped (status ``too_far``) rather than silently moved across a river.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from routing._validate import check_positive, points_xy
from routing.components import node_components
from routing.errors import NetworkDataError, RoutingInputError, SnapDistanceError
from routing.modes import TravelMode
from routing.network import RoadNetwork

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Default limit of the off-network leg, in metres.
MAX_SNAP_DISTANCE_M = 250.0
#: Snap status codes and their names.
SNAP_OK = 0
SNAP_TOO_FAR = 1
SNAP_INVALID = 2
SNAP_STATUS = ("ok", "too_far", "invalid")


@dataclass(frozen=True, slots=True, eq=False)
class SnappedPoints:
    """Points placed on the network for one travel mode.

    Attributes
    ----------
    mode
        The travel mode's name.
    x, y
        The input coordinates (metres, network CRS).
    edge
        The edge each point was snapped onto, ``-1`` when not snapped.
    fraction
        Position along the edge from its ``u`` (0) to its ``v`` (1).
    distance_m
        Length of the off-network leg in metres; for a point that is too far, the distance
        to the nearest usable road (``inf`` if there is none); ``nan`` for invalid points.
    snapped_x, snapped_y
        The point on the road (``nan`` when not snapped).
    status
        :data:`SNAP_OK`, :data:`SNAP_TOO_FAR` or :data:`SNAP_INVALID` per point.
    max_distance_m
        The snapping limit used, in metres.
    """

    mode: str
    x: FloatArray
    y: FloatArray
    edge: IntArray
    fraction: FloatArray
    distance_m: FloatArray
    snapped_x: FloatArray
    snapped_y: FloatArray
    status: npt.NDArray[np.uint8]
    max_distance_m: float

    def __len__(self) -> int:
        """Return the number of points."""
        return int(self.x.shape[0])

    @property
    def ok(self) -> npt.NDArray[np.bool_]:
        """Whether each point was snapped."""
        ok: npt.NDArray[np.bool_] = self.status == SNAP_OK
        return ok

    def take(self, indices: npt.ArrayLike) -> SnappedPoints:
        """Return the points at ``indices``, in that order, snapped as they are here."""
        at = np.asarray(indices, dtype=np.int64)
        return SnappedPoints(
            mode=self.mode,
            x=self.x[at],
            y=self.y[at],
            edge=self.edge[at],
            fraction=self.fraction[at],
            distance_m=self.distance_m[at],
            snapped_x=self.snapped_x[at],
            snapped_y=self.snapped_y[at],
            status=self.status[at],
            max_distance_m=self.max_distance_m,
        )

    def status_names(self) -> list[str]:
        """Return each point's status as a word (``ok``, ``too_far``, ``invalid``)."""
        return [SNAP_STATUS[s] for s in self.status]

    def raise_for_status(self, *, what: str = "point") -> None:
        """Raise for the first point that was not snapped.

        Parameters
        ----------
        what
            How the points are called in the message (``"origin"``, ``"school"``).

        Raises
        ------
        SnapDistanceError
            Naming the point, its distance to the nearest usable road and the limit.
        """
        bad = np.flatnonzero(~self.ok)
        if bad.size == 0:
            return
        i = int(bad[0])
        distance = float(self.distance_m[i])
        if self.status[i] == SNAP_INVALID:
            msg = f"{what} {i} has no finite coordinates ({self.x[i]}, {self.y[i]})"
        elif np.isinf(distance):
            msg = f"{what} {i}: the network has no road open to {self.mode}"
        else:
            msg = (
                f"{what} {i} is {distance:.0f} m from the nearest road open to {self.mode} "
                f"(limit {self.max_distance_m:.0f} m): it may be in a river or off the map"
            )
        raise SnapDistanceError(
            msg, index=i, distance_m=distance, max_distance_m=self.max_distance_m
        )


#: Spacing of the sample points the nearest-segment search indexes, in metres.
_SAMPLE_SPACING_M = 20.0


@dataclass(frozen=True, slots=True, eq=False)
class _SegmentIndex:
    """The straight pieces of the edges a mode may snap onto, with a k-d tree of samples.

    Every segment is sampled at most ``_SAMPLE_SPACING_M`` apart, ends included, so any
    point of a segment lies within half a spacing of one of its samples. If the nearest
    sample to a query point is ``d0`` away, the nearest segment is at most ``d0`` away and
    has a sample within ``d0 + spacing / 2``: the exact nearest segment is among the
    segments of those samples.
    """

    tree: cKDTree
    sample_segment: IntArray
    edge: IntArray
    start: FloatArray
    end: FloatArray
    along_m: FloatArray
    edge_length_m: FloatArray


def _segment_index(network: RoadNetwork, mode: TravelMode) -> _SegmentIndex:
    """Return the segment index of ``mode`` (built once per network and mode).

    One direction of each two-way road is indexed; ferries are never snapped onto.
    """

    def build() -> _SegmentIndex:
        arcs = network.mode_graph_arrays(mode)
        twin = network.edge_twin
        canonical = (twin < 0) | (np.arange(network.n_edges) < twin)
        usable = (arcs.edge_forward | arcs.edge_backward) & ~network.edge_ferry & canonical
        ptr = network.coord_ptr
        n_points = np.diff(ptr)
        edges = np.flatnonzero(usable & (n_points >= 2))
        counts = n_points[edges] - 1
        group_start = np.cumsum(counts) - counts
        seg_edge = np.repeat(edges, counts).astype(np.int64)
        # segment j of edge e joins coords[ptr[e] + j] and coords[ptr[e] + j + 1]
        step = np.arange(int(counts.sum())) - np.repeat(group_start, counts)
        starts = np.repeat(ptr[edges], counts) + step
        start = network.coords[starts]
        end = network.coords[starts + 1]
        piece = np.hypot(*(end - start).T)
        before = np.cumsum(piece) - piece
        along = before - np.repeat(before[group_start] if counts.size else before, counts)
        total = np.zeros(network.n_edges)
        np.add.at(total, seg_edge, piece)
        pieces = np.maximum(1, np.ceil(piece / _SAMPLE_SPACING_M)).astype(np.int64)
        sample_segment = np.repeat(np.arange(piece.shape[0]), pieces + 1)
        offset = np.repeat(np.cumsum(pieces + 1) - (pieces + 1), pieces + 1)
        t = (np.arange(sample_segment.shape[0]) - offset) / pieces[sample_segment]
        samples = start[sample_segment] + t[:, None] * (end - start)[sample_segment]
        return _SegmentIndex(
            tree=cKDTree(samples if samples.size else np.zeros((0, 2))),
            sample_segment=sample_segment.astype(np.int64),
            edge=seg_edge,
            start=start,
            end=end,
            along_m=along,
            edge_length_m=total,
        )

    index: _SegmentIndex = network.memoized(f"snap:{mode.name}", build)
    return index


def _project(
    xy: FloatArray, start: FloatArray, end: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Project points on segments (same shapes, last axis x, y).

    Returns the position ``t`` along each segment (0 to 1), the projected point and the
    distance in metres.
    """
    span = end - start
    span_sq = np.sum(span * span, axis=-1)
    t = np.sum((xy - start) * span, axis=-1) / np.where(span_sq > 0, span_sq, 1.0)
    t = np.clip(t, 0.0, 1.0)
    projected = start + t[..., None] * span
    return t, projected, np.hypot(*np.moveaxis(xy - projected, -1, 0))


def _nearest_segments(
    index: _SegmentIndex,
    xy: FloatArray,
    *,
    usable: npt.NDArray[np.bool_] | None = None,
    limit_m: float = np.inf,
) -> tuple[IntArray, FloatArray]:
    """Return the exact nearest segment of every point and its distance in metres.

    Only segments flagged ``usable`` count (all when ``None``); a point with no usable
    segment within ``limit_m`` gets distance ``inf``. Ties go to the lower segment number.
    """
    n_samples = index.sample_segment.shape[0]
    segment = np.zeros(xy.shape[0], dtype=np.int64)
    distance = np.full(xy.shape[0], np.inf)
    todo = np.arange(xy.shape[0])
    k = 8
    while todo.size:
        k = min(k, n_samples)
        found_distance, found = index.tree.query(xy[todo], k=k)
        found_distance = found_distance.reshape(todo.size, k)
        found = index.sample_segment[found.reshape(todo.size, k)]
        allowed = np.ones(found.shape, dtype=bool) if usable is None else usable[found]
        radius = np.where(allowed, found_distance, np.inf).min(axis=1) + _SAMPLE_SPACING_M / 2
        # a segment within the limit has a sample within half a spacing beyond it
        beyond = found_distance[:, -1] > limit_m + _SAMPLE_SPACING_M / 2
        complete = (found_distance[:, -1] > radius) | (k == n_samples) | beyond
        rows = todo[complete]
        candidates = found[complete]
        _, _, exact = _project(xy[rows][:, None, :], index.start[candidates], index.end[candidates])
        exact = np.where(allowed[complete], exact, np.inf)
        by_segment = np.argsort(candidates, axis=1, kind="stable")
        candidates = np.take_along_axis(candidates, by_segment, axis=1)
        exact = np.take_along_axis(exact, by_segment, axis=1)
        best = np.argmin(exact, axis=1)
        pick = np.arange(rows.size)
        segment[rows] = candidates[pick, best]
        distance[rows] = exact[pick, best]
        todo = todo[~complete]
        k *= 4
    return segment, distance


def _held_parts(network: RoadNetwork, mode: TravelMode, toward: SnappedPoints) -> BoolArray:
    """Flag, by weak component label, the parts of the network that hold one of ``toward``."""
    if toward.mode != mode.name:
        msg = f"toward points were snapped for {toward.mode}, not {mode.name}"
        raise RoutingInputError(msg, field="toward")
    check_snapped(toward, network, field="toward")
    labels = node_components(network, mode)
    held = np.zeros(int(labels.max()) + 1 if labels.size else 0, dtype=bool)
    held[labels[network.edge_u[toward.edge[toward.ok]]]] = True
    return held


def _on_held_parts(
    network: RoadNetwork,
    mode: TravelMode,
    index: _SegmentIndex,
    segments: IntArray,
    held: BoolArray,
) -> BoolArray:
    """Whether each of ``segments`` lies on a part flagged in ``held``."""
    labels = node_components(network, mode)
    flags: BoolArray = held[labels[network.edge_u[index.edge[segments]]]]
    return flags


def snap_points(
    network: RoadNetwork,
    points: Any,
    *,
    mode: TravelMode | str,
    max_distance_m: float = MAX_SNAP_DISTANCE_M,
    toward: SnappedPoints | None = None,
) -> SnappedPoints:
    """Snap points onto the nearest edge that ``mode`` may use.

    Parameters
    ----------
    network
        The road network.
    points
        ``(n, 2)`` x, y in the network's metric CRS, or a GeoSeries/GeoDataFrame of points
        in that CRS.
    mode
        Travel mode (or its name); ferries and edges closed to the mode are never used.
    max_distance_m
        Longest allowed off-network leg in metres.
    toward
        Destinations already snapped for ``mode``: a point goes onto the nearest edge of a
        part of the network that holds one of them when such an edge lies within
        ``max_distance_m``, else onto the nearest edge at all.

    Returns
    -------
    SnappedPoints
        One entry per point, with a status; nothing is raised for points that are too far
        (call :meth:`SnappedPoints.raise_for_status` to make that an error).

    Raises
    ------
    RoutingInputError
        If ``points`` is malformed or in another CRS, the limit is not positive, or
        ``toward`` was snapped for another mode.
    NetworkDataError
        If ``toward`` was snapped on another network.
    """
    resolved = network.travel_mode(mode)
    limit = check_positive(max_distance_m, field="max_distance_m")
    xy = points_xy(points, crs=network.crs, field="points")
    n = xy.shape[0]
    edge = np.full(n, -1, dtype=np.int64)
    fraction = np.full(n, np.nan)
    distance = np.full(n, np.nan)
    snapped = np.full((n, 2), np.nan)
    status = np.full(n, SNAP_INVALID, dtype=np.uint8)
    valid = np.flatnonzero(np.isfinite(xy).all(axis=1))
    held = None if toward is None else _held_parts(network, resolved, toward)
    index = _segment_index(network, resolved)
    status[valid] = SNAP_TOO_FAR
    distance[valid] = np.inf
    if valid.size and index.edge.size:
        segment, nearest = _nearest_segments(index, xy[valid])
        if held is not None and held.any():
            astray = np.flatnonzero(~_on_held_parts(network, resolved, index, segment, held))
            if astray.size:
                every = np.arange(index.edge.shape[0])
                usable = _on_held_parts(network, resolved, index, every, held)
                joined, reach = _nearest_segments(
                    index, xy[valid[astray]], usable=usable, limit_m=limit
                )
                found = reach <= limit
                segment[astray[found]], nearest[astray[found]] = joined[found], reach[found]
        distance[valid] = nearest
        close = nearest <= limit
        rows = valid[close]
        segment = segment[close]
        status[rows] = SNAP_OK
        t, on_road, _ = _project(xy[rows], index.start[segment], index.end[segment])
        snapped[rows] = on_road
        edge[rows] = index.edge[segment]
        total = index.edge_length_m[edge[rows]]
        along = index.along_m[segment] + t * np.hypot(*(index.end - index.start)[segment].T)
        fraction[rows] = np.clip(along / np.where(total > 0, total, 1.0), 0.0, 1.0)
    return SnappedPoints(
        mode=resolved.name,
        x=xy[:, 0].copy(),
        y=xy[:, 1].copy(),
        edge=edge,
        fraction=fraction,
        distance_m=distance,
        snapped_x=snapped[:, 0].copy(),
        snapped_y=snapped[:, 1].copy(),
        status=status,
        max_distance_m=limit,
    )


def check_snapped(points: SnappedPoints, network: RoadNetwork, *, field: str) -> None:
    """Raise if ``points`` were snapped on another network or with ids out of range.

    Raises
    ------
    NetworkDataError
        If an edge id is not an edge of ``network``.
    """
    if points.edge.size and int(points.edge.max()) >= network.n_edges:
        msg = f"{field} were snapped on another network"
        raise NetworkDataError(msg)


def as_snapped(
    network: RoadNetwork,
    points: Any,
    mode: TravelMode,
    max_snap_m: float,
    field: str,
    toward: SnappedPoints | None = None,
) -> SnappedPoints:
    """Return ``points`` snapped for ``mode``, or checked when they already are.

    Parameters
    ----------
    network
        The road network.
    points
        :class:`SnappedPoints` of ``mode`` on this network, or points to snap (see
        :func:`snap_points`).
    mode
        The travel mode.
    max_snap_m
        Snapping limit in metres, for points that are not snapped yet.
    field
        How the points are called in an error.
    toward
        Snap toward these points (see :func:`snap_points`), for points not snapped yet.

    Raises
    ------
    RoutingInputError
        If the points were snapped for another mode.
    NetworkDataError
        If they were snapped on another network.
    """
    if isinstance(points, SnappedPoints):
        if points.mode != mode.name:
            msg = f"{field} were snapped for {points.mode}, not {mode.name}"
            raise RoutingInputError(msg, field=field)
        check_snapped(points, network, field=field)
        return points
    return snap_points(network, points, mode=mode, max_distance_m=max_snap_m, toward=toward)
