"""Compiled shortest-path kernels over compressed sparse row (CSR) arrays.

Every kernel is Dijkstra's algorithm with a 4-ary heap and lazy deletion, compiled with
numba (``nogil``, so several threads run searches at once). Each search tracks two
weights: the *primary* one it minimises (length or time) and a *secondary* one summed
along the chosen path. Relaxation uses a strict ``<``, as networkx does, so distances are
the same sums of the same edge weights that networkx computes.

Sources and targets are *attachments*: a point snapped onto an edge reaches one or both
end nodes of that edge at a cost (the partial edge plus the off-network leg), so a search
starts from up to two seeded nodes and reads a target's cost at its attachment nodes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

_F = TypeVar("_F", bound=Callable[..., Any])

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
#: ``(ptr, node, cost1, cost2)``: the seeds (or attachment nodes) of each point, point-major.
Attachments = tuple[IntArray, Int32Array, FloatArray, FloatArray]
#: ``(indptr, adjacent, weight1, weight2)``: a CSR adjacency with two weights per arc.
Graph = tuple[IntArray, Int32Array, FloatArray, FloatArray]
#: ``(ptr, target, cost1, cost2, other, other_cost1, other_cost2)``, node-major.
TargetAttachments = tuple[
    IntArray, Int32Array, FloatArray, FloatArray, Int32Array, FloatArray, FloatArray
]
#: ``(count per source, target, cost1, cost2)``: pairs grouped by source.
Result = tuple[IntArray, Int32Array, FloatArray, FloatArray]
#: ``(dist1, dist2, pred, touched, heap)``: one search's working arrays.
SearchState = tuple[FloatArray, FloatArray, IntArray, Int32Array, FloatArray]
#: ``(target, cost1, cost2)`` result buffers.
Outputs = tuple[Int32Array, FloatArray, FloatArray]


def _jit(func: _F) -> _F:
    """Compile ``func`` in nopython mode, releasing the GIL, with an on-disk cache."""
    return cast("_F", numba.njit(cache=True, nogil=True)(func))


@_jit
def _heap_push(heap: FloatArray, size: int, key: float, item: int) -> int:  # pragma: no cover
    """Push ``(key, item)`` on the 4-ary min-heap of ``size`` entries; return the new size.

    ``heap`` is an ``(n, 2)`` array of ``(key, item)`` rows, so that a key and its item
    share a cache line (items are integers below 2**53, exact as floats). A 4-ary heap is
    shallower than a binary one; with the interleaved rows it makes the searches about a
    third faster on road networks (measured with ``benchmarks/distance_matrix.py``).
    """
    position = size
    while position > 0:
        parent = (position - 1) >> 2
        if heap[parent, 0] <= key:
            break
        heap[position, 0] = heap[parent, 0]
        heap[position, 1] = heap[parent, 1]
        position = parent
    heap[position, 0] = key
    heap[position, 1] = item
    return size + 1


@_jit
def _heap_pop(heap: FloatArray, size: int) -> tuple[float, int, int]:  # pragma: no cover
    """Remove the smallest entry of the 4-ary heap; return its key, its item, the new size."""
    top_key = heap[0, 0]
    top_item = int(heap[0, 1])
    size -= 1
    last_key = heap[size, 0]
    last_item = heap[size, 1]
    position = 0
    while True:
        first = 4 * position + 1
        if first >= size:
            break
        best = first
        best_key = heap[first, 0]
        for child in range(first + 1, min(first + 4, size)):
            if heap[child, 0] < best_key:
                best = child
                best_key = heap[child, 0]
        if best_key >= last_key:
            break
        heap[position, 0] = best_key
        heap[position, 1] = heap[best, 1]
        position = best
    if size > 0:
        heap[position, 0] = last_key
        heap[position, 1] = last_item
    return top_key, top_item, size


@_jit
def _grow(values: npt.NDArray[Any], size: int) -> npt.NDArray[Any]:  # pragma: no cover
    """Return a copy of ``values`` with twice the room, keeping its first ``size`` entries."""
    bigger = np.empty(max(2 * values.shape[0], 16), dtype=values.dtype)
    bigger[:size] = values[:size]
    return bigger


@_jit
def _search_from(
    seed: int, sources: Attachments, graph: Graph, cutoff: float, state: SearchState
) -> int:  # pragma: no cover - compiled
    """Run one search from the seeds of source ``seed``; return how many nodes it touched.

    ``state`` is ``(dist1, dist2, pred, touched, heap)``; ``dist1`` and
    ``dist2`` must hold ``inf`` for every node on entry. Touched nodes are listed in
    ``touched`` so that the caller can reset them; ``pred`` receives, for each touched
    node, the CSR position of the arc that reached it (``-1`` for a seed).
    """
    src_ptr, src_node, src_c1, src_c2 = sources
    indptr, adjacent, weight1, weight2 = graph
    dist1, dist2, pred, touched, heap = state
    n_touched = 0
    size = 0
    for j in range(src_ptr[seed], src_ptr[seed + 1]):
        node = src_node[j]
        cost = src_c1[j]
        if cost <= cutoff and cost < dist1[node]:
            if dist1[node] == np.inf:
                touched[n_touched] = node
                n_touched += 1
            dist1[node] = cost
            dist2[node] = src_c2[j]
            pred[node] = -1
            size = _heap_push(heap, size, cost, node)
    while size > 0:
        key, node, size = _heap_pop(heap, size)
        if key > dist1[node]:
            continue
        base2 = dist2[node]
        for arc in range(indptr[node], indptr[node + 1]):
            other = adjacent[arc]
            cost = key + weight1[arc]
            if cost <= cutoff and cost < dist1[other]:
                if dist1[other] == np.inf:
                    touched[n_touched] = other
                    n_touched += 1
                dist1[other] = cost
                dist2[other] = base2 + weight2[arc]
                pred[other] = arc
                size = _heap_push(heap, size, cost, other)
    return n_touched


@_jit
def _new_state(n_nodes: int, heap_capacity: int) -> SearchState:  # pragma: no cover - compiled
    """Return fresh search state: costs at ``inf``, predecessors at ``-1``."""
    return (
        np.full(n_nodes, np.inf),
        np.full(n_nodes, np.inf),
        np.full(n_nodes, -1, dtype=np.int64),
        np.empty(n_nodes, dtype=np.int32),
        np.empty((heap_capacity, 2)),
    )


@_jit
def shortest_tree(
    sources: Attachments, graph: Graph, cutoff: float
) -> tuple[FloatArray, FloatArray, IntArray]:  # pragma: no cover - compiled
    """Return primary and secondary costs and predecessor arcs of a search from source 0.

    Unreached nodes hold ``inf``; ``pred`` holds the CSR position of the arc into each
    node (``-1`` for seeds and unreached nodes).
    """
    n_seeds = sources[0][1] - sources[0][0]
    state = _new_state(graph[0].shape[0] - 1, graph[1].shape[0] + n_seeds + 1)
    _search_from(0, sources, graph, cutoff, state)
    return state[0], state[1], state[2]


@_jit
def _gather(
    n_touched: int,
    touched: Int32Array,
    dist1: FloatArray,
    dist2: FloatArray,
    targets: TargetAttachments,
    cutoff: float,
    out: Outputs,
    n_out: int,
) -> int:  # pragma: no cover - compiled
    """Append the best cost of every target attached to a touched node; return the new count.

    A target has one or two attachment nodes. Its entry at its first node carries the
    other node (``other``, ``-1`` if none) and the other leg's costs, and emits the
    cheaper of the two. Its entry at its second node carries ``other = -2 - first``
    and emits only when the first node was not reached. Each target is emitted once.
    """
    tgt_ptr, tgt_id, tgt_c1, tgt_c2, tgt_other, tgt_other_c1, tgt_other_c2 = targets
    out_tgt, out_c1, out_c2 = out
    for i in range(n_touched):
        node = touched[i]
        for j in range(tgt_ptr[node], tgt_ptr[node + 1]):
            other = tgt_other[j]
            if other < -1 and dist1[-2 - other] < np.inf:
                continue
            cost1 = dist1[node] + tgt_c1[j]
            cost2 = dist2[node] + tgt_c2[j]
            if other >= 0:
                alt1 = dist1[other] + tgt_other_c1[j]
                if alt1 < cost1:
                    cost1 = alt1
                    cost2 = dist2[other] + tgt_other_c2[j]
            if cost1 <= cutoff:
                out_tgt[n_out] = tgt_id[j]
                out_c1[n_out] = cost1
                out_c2[n_out] = cost2
                n_out += 1
    return n_out


@_jit
def _merge_direct(
    first_out: int,
    direct_lo: int,
    direct_hi: int,
    direct: Attachments,
    cutoff: float,
    out: Outputs,
    n_out: int,
) -> int:  # pragma: no cover - compiled
    """Lower or add the costs of targets that a source reaches along its own edge."""
    _, direct_tgt, direct_c1, direct_c2 = direct
    out_tgt, out_c1, out_c2 = out
    for j in range(direct_lo, direct_hi):
        if direct_c1[j] > cutoff:
            continue
        target = direct_tgt[j]
        found = False
        for i in range(first_out, n_out):
            if out_tgt[i] == target:
                found = True
                if direct_c1[j] < out_c1[i]:
                    out_c1[i] = direct_c1[j]
                    out_c2[i] = direct_c2[j]
                break
        if not found:
            out_tgt[n_out] = target
            out_c1[n_out] = direct_c1[j]
            out_c2[n_out] = direct_c2[j]
            n_out += 1
    return n_out


@_jit
def _room(out: Outputs, n_out: int, needed: int) -> Outputs:  # pragma: no cover - compiled
    """Return ``out`` with room for ``needed`` more entries after the first ``n_out``."""
    if n_out + needed <= out[0].shape[0]:
        return out
    capacity = max(2 * out[0].shape[0], n_out + needed)
    out_tgt = np.empty(capacity, dtype=np.int32)
    out_c1 = np.empty(capacity)
    out_c2 = np.empty(capacity)
    out_tgt[:n_out] = out[0][:n_out]
    out_c1[:n_out] = out[1][:n_out]
    out_c2[:n_out] = out[2][:n_out]
    return out_tgt, out_c1, out_c2


@_jit
def many_to_many(
    span: tuple[int, int],
    sources: Attachments,
    graph: Graph,
    targets: TargetAttachments,
    direct: Attachments,
    cutoff: float,
    capacity: int,
    most_per_source: int,
) -> Result:  # pragma: no cover - compiled
    """Search from sources ``span[0]``..``span[1] - 1``; return every target within ``cutoff``.

    ``sources`` is source-major: ``(ptr, node, cost1, cost2)`` seeds of each source.
    ``targets`` is node-major (see :func:`_gather`); ``direct`` is source-major and lists
    the targets a source reaches along its own edge without passing a node.
    ``capacity`` is the first size of the result buffers (memory is only committed where
    written, so an upper bound costs nothing); ``most_per_source`` is the target count.
    Returns ``(count, target, cost1, cost2)``: the number of targets of each source, then
    the pairs grouped by source (only pairs with ``cost1 <= cutoff``).
    """
    first, stop = span
    src_ptr = sources[0]
    most_seeds = 0
    for source in range(first, stop):
        most_seeds = max(most_seeds, src_ptr[source + 1] - src_ptr[source])
    state = _new_state(graph[0].shape[0] - 1, graph[1].shape[0] + most_seeds + 1)
    dist1, dist2, _, touched, _ = state
    out = (np.empty(capacity, dtype=np.int32), np.empty(capacity), np.empty(capacity))
    counts = np.zeros(stop - first, dtype=np.int64)
    n_out = 0
    for source in range(first, stop):
        first_out = n_out
        n_touched = _search_from(source, sources, graph, cutoff, state)
        out = _room(out, n_out, most_per_source + direct[0][source + 1] - direct[0][source])
        n_out = _gather(n_touched, touched, dist1, dist2, targets, cutoff, out, n_out)
        n_out = _merge_direct(
            first_out, direct[0][source], direct[0][source + 1], direct, cutoff, out, n_out
        )
        counts[source - first] = n_out - first_out
        for i in range(n_touched):
            dist1[touched[i]] = np.inf
            dist2[touched[i]] = np.inf
    return counts, out[0][:n_out], out[1][:n_out], out[2][:n_out]


@_jit
def allocate(n_counts: int, n_pairs: int) -> Result:  # pragma: no cover - compiled
    """Return empty result arrays for ``n_counts`` sources and ``n_pairs`` pairs.

    Allocated by compiled code, so without numpy's huge-page advice, whose page faults are
    several times slower on some virtual machines.
    """
    return (
        np.empty(n_counts, dtype=np.int64),
        np.empty(n_pairs, dtype=np.int32),
        np.empty(n_pairs),
        np.empty(n_pairs),
    )


@_jit
def copy_into(
    result: Result, part: Result, at_count: int, at_pair: int
) -> None:  # pragma: no cover - compiled
    """Copy the arrays of ``part`` into ``result`` from positions ``at_count``/``at_pair``."""
    size = part[0].shape[0]
    result[0][at_count : at_count + size] = part[0]
    size = part[1].shape[0]
    result[1][at_pair : at_pair + size] = part[1]
    result[2][at_pair : at_pair + size] = part[2]
    result[3][at_pair : at_pair + size] = part[3]


@_jit
def k_nearest_labels(
    seeds: Attachments,
    seed_source: Int32Array,
    graph: Graph,
    k: int,
    cutoff: float,
) -> tuple[Int32Array, FloatArray, FloatArray, IntArray]:  # pragma: no cover - compiled
    """Label every node with its ``k`` nearest distinct sources in one multi-source search.

    ``seeds`` holds ``(unused, node, cost1, cost2)`` for every seed and ``seed_source`` the
    source each seed belongs to. Returns ``(label_source, label_c1, label_c2,
    label_count)``: node ``n`` holds ``label_count[n]`` labels at positions ``n * k`` to
    ``n * k + label_count[n] - 1``, in increasing primary cost. The first time a (node,
    source) pair leaves the heap it carries that source's shortest cost to the node, so
    the labels are exact. Each node settles at most ``k`` labels and relaxes its arcs once
    per label, which bounds the heap.
    """
    _, seed_node, seed_c1, seed_c2 = seeds
    indptr, adjacent, weight1, weight2 = graph
    n_nodes = indptr.shape[0] - 1
    label_source = np.full(n_nodes * k, -1, dtype=np.int32)
    label_c1 = np.full(n_nodes * k, np.inf)
    label_c2 = np.full(n_nodes * k, np.inf)
    label_count = np.zeros(n_nodes, dtype=np.int64)
    capacity = seed_node.shape[0] + k * adjacent.shape[0] + 1
    heap = np.empty((capacity, 2))
    entry_node = np.empty(capacity, dtype=np.int32)
    entry_source = np.empty(capacity, dtype=np.int32)
    entry_c2 = np.empty(capacity)
    n_entries = 0
    size = 0
    for j in range(seed_node.shape[0]):
        if seed_c1[j] <= cutoff:
            entry_node[n_entries] = seed_node[j]
            entry_source[n_entries] = seed_source[j]
            entry_c2[n_entries] = seed_c2[j]
            size = _heap_push(heap, size, seed_c1[j], n_entries)
            n_entries += 1
    while size > 0:
        key, entry, size = _heap_pop(heap, size)
        node = entry_node[entry]
        if not _add_label(
            node,
            entry_source[entry],
            key,
            entry_c2[entry],
            k,
            label_source,
            label_c1,
            label_c2,
            label_count,
        ):
            continue
        for arc in range(indptr[node], indptr[node + 1]):
            other = adjacent[arc]
            cost1 = key + weight1[arc]
            if cost1 <= cutoff and label_count[other] < k:
                entry_node[n_entries] = other
                entry_source[n_entries] = entry_source[entry]
                entry_c2[n_entries] = entry_c2[entry] + weight2[arc]
                size = _heap_push(heap, size, cost1, n_entries)
                n_entries += 1
    return label_source, label_c1, label_c2, label_count


@_jit
def _add_label(  # noqa: PLR0913, PLR0917
    node: int,
    source: int,
    cost1: float,
    cost2: float,
    k: int,
    label_source: Int32Array,
    label_c1: FloatArray,
    label_c2: FloatArray,
    label_count: IntArray,
) -> bool:  # pragma: no cover - compiled
    """Give ``node`` the label of ``source`` unless it is full or already has one."""
    count = label_count[node]
    if count >= k:
        return False
    for j in range(node * k, node * k + count):
        if label_source[j] == source:
            return False
    label_source[node * k + count] = source
    label_c1[node * k + count] = cost1
    label_c2[node * k + count] = cost2
    label_count[node] = count + 1
    return True


@_jit
def k_best_for_points(
    points: Attachments,
    direct: Attachments,
    labels: tuple[Int32Array, FloatArray, FloatArray, IntArray],
    k: int,
    cutoff: float,
) -> tuple[Int32Array, FloatArray, FloatArray]:  # pragma: no cover - compiled
    """Combine node labels into each point's ``k`` nearest distinct sources.

    A point reaches node ``point_node[j]`` at ``point_c*[j]``; its candidates are that
    node's labels plus the leg, and the sources it reaches directly along its own edge.
    Ties in the primary cost go to the smaller source index.
    """
    point_ptr, point_node, point_c1, point_c2 = points
    direct_ptr, direct_src, direct_c1, direct_c2 = direct
    label_source, label_c1, label_c2, label_count = labels
    n_points = point_ptr.shape[0] - 1
    best_src = np.full((n_points, k), -1, dtype=np.int32)
    best_c1 = np.full((n_points, k), np.inf)
    best_c2 = np.full((n_points, k), np.inf)
    for point in range(n_points):
        n_best = 0
        n_direct = direct_ptr[point + 1] - direct_ptr[point]
        n_cand = n_direct
        for j in range(point_ptr[point], point_ptr[point + 1]):
            n_cand += label_count[point_node[j]]
        cand_src = np.empty(n_cand, dtype=np.int32)
        cand_c1 = np.empty(n_cand)
        cand_c2 = np.empty(n_cand)
        c = 0
        for j in range(direct_ptr[point], direct_ptr[point + 1]):
            cand_src[c] = direct_src[j]
            cand_c1[c] = direct_c1[j]
            cand_c2[c] = direct_c2[j]
            c += 1
        for j in range(point_ptr[point], point_ptr[point + 1]):
            node = point_node[j]
            for slot in range(node * k, node * k + label_count[node]):
                cand_src[c] = label_source[slot]
                cand_c1[c] = label_c1[slot] + point_c1[j]
                cand_c2[c] = label_c2[slot] + point_c2[j]
                c += 1
        by_source = np.argsort(cand_src, kind="mergesort")
        order = by_source[np.argsort(cand_c1[by_source], kind="mergesort")]
        for i in order:
            if n_best >= k or cand_c1[i] > cutoff:
                break
            seen = False
            for b in range(n_best):
                if best_src[point, b] == cand_src[i]:
                    seen = True
                    break
            if seen:
                continue
            best_src[point, n_best] = cand_src[i]
            best_c1[point, n_best] = cand_c1[i]
            best_c2[point, n_best] = cand_c2[i]
            n_best += 1
    return best_src, best_c1, best_c2
