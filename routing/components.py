"""Connectivity: which parts of the network a mode can reach, and which need a ferry.

Components are *weak* (one-way rules ignored): two nodes in different components have no
path at all between them, whatever the direction, which is the reason reported for an
island without a ferry. Nodes that share a component only thanks to ferry edges are the
ones "reached by boat" (an island commune, a landing on the far bank).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse import csgraph

from routing.modes import TravelMode
from routing.network import RoadNetwork

Int32Array = npt.NDArray[np.int32]
IntArray = npt.NDArray[np.int64]


def _weak_labels(network: RoadNetwork, mode: TravelMode, *, with_ferries: bool) -> Int32Array:
    arcs = network.mode_graph_arrays(mode)
    keep = np.ones(arcs.arc_edge.shape[0], dtype=bool)
    if not with_ferries:
        keep = ~network.edge_ferry[arcs.arc_edge]
    n = network.n_nodes
    matrix = sp.csr_array(
        (np.ones(int(keep.sum())), (arcs.arc_tail[keep], arcs.arc_head[keep])), shape=(n, n)
    )
    _, labels = csgraph.connected_components(matrix, directed=True, connection="weak")
    return np.asarray(labels, dtype=np.int32)


def node_components(network: RoadNetwork, mode: TravelMode | str) -> Int32Array:
    """Return the weak component label of every node for ``mode`` (ferries included)."""
    resolved = network.travel_mode(mode)
    labels: Int32Array = network.memoized(
        f"components:{resolved.name}",
        lambda: _weak_labels(network, resolved, with_ferries=True),
    )
    return labels


@dataclass(frozen=True, slots=True, eq=False)
class ComponentReport:
    """How connected the network is for one mode.

    Attributes
    ----------
    mode
        The travel mode's name.
    node_component
        Weak component of each node, ferries included, numbered from the largest (0);
        ``-1`` for nodes that no road open to the mode touches.
    component_size
        Number of nodes in each component, largest first.
    ferry_edges
        Ids of the ferry edges open to the mode.
    reached_by_ferry
        Nodes that would be cut off from their component's largest ferry-free part without
        the ferries.
    """

    mode: str
    node_component: Int32Array
    component_size: IntArray
    ferry_edges: IntArray
    reached_by_ferry: npt.NDArray[np.bool_]

    @property
    def n_components(self) -> int:
        """Number of weak components."""
        return int(self.component_size.shape[0])

    @property
    def largest_share(self) -> float:
        """Share of nodes in the largest component (0 to 1)."""
        total = int(self.component_size.sum())
        return float(self.component_size[0]) / total if total else 0.0


def component_report(network: RoadNetwork, mode: TravelMode | str) -> ComponentReport:
    """Return the components of the network for ``mode`` and what the ferries connect.

    Parameters
    ----------
    network
        The road network.
    mode
        Travel mode or its name.
    """
    resolved = network.travel_mode(mode)
    arcs = network.mode_graph_arrays(resolved)
    used = np.zeros(network.n_nodes, dtype=bool)
    used[arcs.arc_tail] = True
    used[arcs.arc_head] = True
    labels = node_components(network, resolved)
    sizes = np.bincount(labels[used], minlength=int(labels.max()) + 1 if labels.size else 0)
    order = np.argsort(-sizes, kind="stable")
    order = order[sizes[order] > 0]
    rank = np.full(sizes.shape[0], -1, dtype=np.int64)
    rank[order] = np.arange(order.shape[0])
    without = _weak_labels(network, resolved, with_ferries=False)
    reached_by_ferry = np.zeros(network.n_nodes, dtype=bool)
    for component in np.unique(labels):
        members = np.flatnonzero(labels == component)
        parts = np.bincount(without[members])
        if np.count_nonzero(parts) > 1:
            main = int(np.argmax(parts))
            reached_by_ferry[members[without[members] != main]] = True
    open_edges = arcs.edge_forward | arcs.edge_backward
    return ComponentReport(
        mode=resolved.name,
        node_component=np.where(used, rank[labels], -1).astype(np.int32),
        component_size=sizes[order].astype(np.int64),
        ferry_edges=np.flatnonzero(network.edge_ferry & open_edges).astype(np.int64),
        reached_by_ferry=reached_by_ferry,
    )
