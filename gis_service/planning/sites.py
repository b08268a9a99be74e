"""Sites for new schools: candidates, walking distances to them, and the solve.

Candidates are the planner's (points, or polygons standing for the plot's representative
point) or a grid over the district: grid points moved to the nearest walking-network node
on a residential street (``residential``, ``living_street``, ``unclassified``,
``service``: the alleys) within half a grid step, the step being the largest (in 5 %
steps) that gives enough distinct nodes inside the district, of which ``count`` are drawn
with the seed. Walking distances from every demand point to every candidate are routed
once; the existing first-grade schools keep the seats of the baseline zones. The solve is
:func:`enrolment.p_median_sites` or :func:`enrolment.max_covering_sites`.

Before and after figures come from the transportation optimum over every pair (the
children's real shortest assignment within seats, without the solve's restriction to
each point's nearest candidates): mean walking distance of the children seated, children
without a seat, and children within 1 km and 2 km walking of an open school.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy.spatial import cKDTree
from shapely.geometry import shape

import enrolment
import routing
from gis_service.core_errors import enrolment_errors, routing_errors
from gis_service.errors import FieldProblem, InvalidInputError
from gis_service.geojson import COORDINATE_DECIMALS
from gis_service.networks import DistrictNetwork, check_point
from gis_service.planning.evaluation import PlanningContext
from gis_service.planning.schemas import ChosenSite, SiteSuggestionAnswer
from gis_service.zones.geography import points_xy

__all__ = [
    "ACCESS_M",
    "CandidateIn",
    "SiteRequest",
    "SiteSuggestion",
    "access_figures",
    "grid_candidates",
    "residential_nodes",
    "suggest_sites",
]

#: Streets whose nodes may carry a grid candidate.
RESIDENTIAL = frozenset({"residential", "living_street", "unclassified", "service"})
#: Walking distances whose reach is reported, metres.
ACCESS_M = (1_000.0, 2_000.0)
#: Grid step shrink factor while too few candidates are found.
_GRID_SHRINK = 0.95
_DECIMALS = 3


class CandidateIn(BaseModel):
    """A candidate site: a GeoJSON Point or Polygon (EPSG:4326), with a name and cost."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    geometry: dict[str, Any] = Field(description="GeoJSON Point or Polygon, EPSG:4326")
    opening_cost: float | None = Field(default=None, ge=0, description="in the budget's unit")


class SiteRequest(BaseModel):
    """What to suggest: how many schools, by which model, among which candidates."""

    model_config = ConfigDict(extra="forbid")

    new_schools: int = Field(default=3, ge=1, le=20, description="k: schools to open")
    model: Literal["p_median", "max_covering"] = "p_median"
    norm_m: float = Field(default=1_000.0, gt=0, le=20_000, description="walking norm (covering)")
    capacitated: bool = Field(default=False, description="covering: a covered child needs a seat")
    first_grade_classes: int = Field(default=8, ge=1, le=30, description="of each new school")
    class_size_cap: int | None = Field(default=None, ge=1, le=100)
    candidates: list[CandidateIn] | None = Field(
        default=None, min_length=1, max_length=5_000, description="default: a grid"
    )
    grid_candidates: int = Field(default=500, ge=1, le=5_000, description="grid size")
    seed: int = Field(default=42, ge=0, description="draws the grid's candidates")
    budget: float | None = Field(default=None, ge=0, description="largest total opening cost")
    nearest: int | None = Field(default=enrolment.location.DEFAULT_NEAREST, ge=1)
    time_limit_s: float = Field(default=60.0, gt=0, le=3_600)
    mip_rel_gap: float = Field(default=1e-3, ge=0, lt=1)

    @model_validator(mode="after")
    def _budget_needs_costs(self) -> SiteRequest:
        if self.budget is not None and (
            self.candidates is None or any(c.opening_cost is None for c in self.candidates)
        ):
            msg = "a budget needs an opening_cost on every candidate"
            raise ValueError(msg)
        return self


@dataclass(frozen=True, slots=True, eq=False)
class SiteSuggestion:
    """The sites chosen with their proof, and the figures before and after.

    Attributes
    ----------
    request
        What was asked.
    names
        Name of every candidate.
    lonlat
        ``(n_candidates, 2)`` EPSG:4326 coordinates of every candidate.
    seats
        Seats of each new school.
    solution
        The solve (:class:`enrolment.SiteSolution`).
    before, after
        :func:`access_figures` with the existing schools, and with the sites chosen too.
    seconds
        Time of each part (``candidates``, ``distances``, ``solve``, ``figures``).
    """

    request: SiteRequest
    names: tuple[str, ...]
    lonlat: npt.NDArray[np.float64]
    seats: float
    solution: enrolment.SiteSolution
    before: dict[str, float]
    after: dict[str, float]
    seconds: dict[str, float]

    def chosen(self) -> list[ChosenSite]:
        """Return the sites chosen: candidate index, name, lon, lat, seats."""
        return [
            ChosenSite(
                candidate=int(c),
                name=self.names[c],
                lon=round(float(self.lonlat[c, 0]), COORDINATE_DECIMALS),
                lat=round(float(self.lonlat[c, 1]), COORDINATE_DECIMALS),
                first_grade_seats=self.seats,
            )
            for c in self.solution.opened
        ]

    def answer(self) -> SiteSuggestionAnswer:
        """Return the suggestion as the API answers it."""
        solution = self.solution
        baseline = solution.baseline
        return SiteSuggestionAnswer(
            model=solution.model,
            new_schools=self.request.new_schools,
            candidates=len(self.names),
            sites=self.chosen(),
            status=solution.status,
            gap=solution.gap,
            objective=round(solution.objective, _DECIMALS),
            bound=round(solution.bound, _DECIMALS),
            baseline_objective=None if baseline is None else round(baseline.objective, 3),
            gain=round(solution.gain, _DECIMALS),
            fixed_sites=solution.fixed_sites,
            variables=solution.n_variables,
            constraints=solution.n_constraints,
            before=self.before,
            after=self.after,
            seconds={k: round(v, _DECIMALS) for k, v in self.seconds.items()},
        )

    def scenario_changes(self, *, code_prefix: str = "SITE") -> list[dict[str, Any]]:
        """Return ``add_school`` changes for the sites chosen (a scenario's changes)."""
        return [
            {
                "kind": "add_school",
                "code": f"{code_prefix}-{n + 1}",
                "name": site.name,
                "lon": site.lon,
                "lat": site.lat,
                "first_grade_classes": self.request.first_grade_classes,
                "class_size_cap": self.request.class_size_cap,
            }
            for n, site in enumerate(self.chosen())
        ]


def residential_nodes(network: routing.RoadNetwork) -> npt.NDArray[np.int64]:
    """Return the walkable nodes at the ends of residential streets."""
    arcs = network.mode_graph_arrays("walk")
    names = np.array([set(name.split(";")) <= RESIDENTIAL for name in network.highway_names])
    street = (network.edge_highway >= 0) & arcs.edge_forward & ~network.edge_ferry
    street[street] = names[network.edge_highway[street]]
    nodes: npt.NDArray[np.int64] = np.unique(
        np.concatenate([network.edge_u[street], network.edge_v[street]])
    )
    return nodes


def grid_candidates(
    district_net: DistrictNetwork, count: int, *, seed: int
) -> tuple[npt.NDArray[np.float64], float]:
    """Return ``count`` grid candidates on residential-street nodes (metric x, y) and the step.

    Raises
    ------
    InvalidInputError
        If the district has fewer residential-street nodes than ``count``.
    """
    network = district_net.network
    nodes = residential_nodes(network)
    xy = np.column_stack([network.node_x[nodes], network.node_y[nodes]])
    boundary = district_net.boundary_metric()
    inside_all = np.flatnonzero(boundary.contains(shapely.points(xy)))
    if inside_all.size < count:
        detail = f"the district has {inside_all.size} residential-street nodes, fewer than {count}"
        raise InvalidInputError(detail, problems=[FieldProblem("/grid_candidates", detail)])
    rng = np.random.default_rng(seed)
    tree = cKDTree(xy)
    x0, y0, x1, y1 = boundary.bounds
    step = float(np.sqrt(boundary.area / count))
    offset = rng.random(2)
    while True:
        gx = np.arange(x0 + offset[0] * step, x1, step)
        gy = np.arange(y0 + offset[1] * step, y1, step)
        grid = np.column_stack([a.ravel() for a in np.meshgrid(gx, gy)])
        distance, index = tree.query(grid, distance_upper_bound=step / 2)
        found = np.unique(index[np.isfinite(distance)])
        inside = found[boundary.contains(shapely.points(xy[found]))]
        if inside.size >= count:
            break
        step *= _GRID_SHRINK
    chosen = np.sort(rng.choice(inside, size=count, replace=False))
    return xy[chosen], step


def _planner_candidates(
    district_net: DistrictNetwork, candidates: Sequence[CandidateIn]
) -> tuple[npt.NDArray[np.float64], tuple[str, ...]]:
    """Metric x, y and names of the planner's candidates (a polygon by a point inside it)."""
    xy, names = [], []
    for index, candidate in enumerate(candidates):
        where = f"/candidates/{index}/geometry"
        try:
            geometry = shape(candidate.geometry)
        except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException):
            detail = "not a GeoJSON geometry"
            raise InvalidInputError(detail, problems=[FieldProblem(where, detail)]) from None
        if geometry.geom_type not in {"Point", "Polygon", "MultiPolygon"} or geometry.is_empty:
            detail = f"must be a Point or a Polygon, got {geometry.geom_type}"
            raise InvalidInputError(detail, problems=[FieldProblem(where, detail)])
        spot = geometry.representative_point()
        lon, lat = check_point(district_net.district, lat=spot.y, lon=spot.x, pointer=where)
        xy.append(district_net.to_metric(lon, lat))
        names.append(candidate.name or f"Địa điểm {index + 1}")
    return np.array(xy, dtype=np.float64).reshape(-1, 2), tuple(names)


def access_figures(
    cost_m: npt.NDArray[np.float64],
    children: npt.NDArray[np.float64],
    seats: npt.NDArray[np.float64],
    columns: npt.NDArray[np.int64],
) -> dict[str, float]:
    """Return the seated mean walk, the children without a seat and those within reach.

    The children are seated by the transportation optimum over every pair of the open
    ``columns`` (the schools' columns of ``cost_m``).
    """
    seated = enrolment.p_median_sites(
        cost_m[:, columns],
        children,
        sites=enrolment.Sites(existing_seats=seats[columns], candidate_seats=np.zeros(0)),
        new_schools=0,
    )
    nearest = cost_m[:, columns].min(axis=1)
    figures = {
        "mean_distance_m": round(seated.mean_distance_m, 1),
        "unserved_children": round(seated.unserved_children, 1),
    }
    for reach in ACCESS_M:
        figures[f"within_{int(reach)}m"] = round(float(children[nearest <= reach].sum()), 1)
    return figures


def _solve(
    cost: npt.NDArray[np.float64],
    children: npt.NDArray[np.float64],
    sites: enrolment.Sites,
    request: SiteRequest,
) -> enrolment.SiteSolution:
    """Run the requested model; the core's input errors become problems of the request."""
    options = enrolment.SiteOptions(
        nearest=request.nearest,
        time_limit_s=request.time_limit_s,
        mip_rel_gap=request.mip_rel_gap,
    )
    with enrolment_errors(pointer_prefix=""):
        if request.model == "p_median":
            return enrolment.p_median_sites(
                cost,
                children,
                sites=sites,
                new_schools=request.new_schools,
                budget=request.budget,
                options=options,
            )
        return enrolment.max_covering_sites(
            cost,
            children,
            sites=sites,
            new_schools=request.new_schools,
            norm_m=request.norm_m,
            capacitated=request.capacitated,
            budget=request.budget,
            options=options,
        )


def suggest_sites(
    context: PlanningContext,
    request: SiteRequest,
    *,
    progress: Callable[[str], None] | None = None,
) -> SiteSuggestion:
    """Choose sites for new schools over the district's demand points.

    Parameters
    ----------
    context
        The district's planning context (demand points, schools and their seats).
    request
        The model, the number of schools, the candidates and the solver's limits.
    progress
        Called with the name of each step as it starts.

    Returns
    -------
    SiteSuggestion
        The sites, the proof, and the figures before and after.

    Raises
    ------
    InvalidInputError
        If a candidate is not a Point or Polygon in the district, or the solve's inputs are
        impossible (more schools than candidates, a budget without costs).
    """

    def step(name: str) -> None:
        if progress is not None:
            progress(name)

    timings: dict[str, float] = {}
    started = time.perf_counter()
    geography = context.geography
    district_net = geography.district_net
    step("candidates")
    if request.candidates is None:
        candidates_xy, _ = grid_candidates(district_net, request.grid_candidates, seed=request.seed)
        names = tuple(f"Ô lưới {n + 1}" for n in range(len(candidates_xy)))
        cost_of = None
    else:
        candidates_xy, names = _planner_candidates(district_net, request.candidates)
        cost_of = [c.opening_cost or 0.0 for c in request.candidates]
    timings["candidates"] = time.perf_counter() - started
    step("distances")
    started = time.perf_counter()
    points = geography.points
    with routing_errors("/candidates"):
        matrix = routing.cost_matrix(
            district_net.network, "walk", origins=points_xy(points), destinations=candidates_xy
        )
    cost = np.hstack([geography.costs["walk"].distance_m, matrix.dense("length_m")])
    timings["distances"] = time.perf_counter() - started
    step("solve")
    started = time.perf_counter()
    cap = request.class_size_cap or context.class_size_cap
    seats = float(request.first_grade_classes * cap)
    existing = context.baseline.seats.seats
    sites = enrolment.Sites(
        existing_seats=existing,
        candidate_seats=np.full(len(candidates_xy), seats),
        opening_cost=None if cost_of is None else np.array(cost_of, dtype=np.float64),
    )
    children = points["children"].to_numpy(dtype=np.float64)
    solution = _solve(cost, children, sites, request)
    timings["solve"] = time.perf_counter() - started
    step("figures")
    started = time.perf_counter()
    all_seats = sites.seats
    n_existing = sites.n_existing
    before_columns = np.arange(n_existing)
    after_columns = np.concatenate([before_columns, n_existing + solution.opened])
    before = access_figures(cost, children, all_seats, before_columns)
    after = access_figures(cost, children, all_seats, after_columns)
    timings["figures"] = time.perf_counter() - started
    lon, lat = district_net.network.xy_to_lonlat(candidates_xy[:, 0], candidates_xy[:, 1])
    return SiteSuggestion(
        request=request,
        names=names,
        lonlat=np.column_stack([lon, lat]),
        seats=seats,
        solution=solution,
        before=before,
        after=after,
        seconds=timings,
    )
