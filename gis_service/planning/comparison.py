"""Scenarios beside the baseline: figures and their change, seat gap by year, children moved.

The baseline is the same evaluation without changes (the registry as it is). For each
scenario, :func:`compare_documents` gives its figures and their change from the baseline,
its shortfall per year, the children of the baseline's demand points who change zone
school, the flows between schools and a GeoJSON layer of where those children live.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from gis_service.planning.schemas import (
    BaselineColumn,
    ComparedScenario,
    Comparison,
    EvaluationDocument,
    Flow,
    MovedFeature,
    MovedLayer,
    MovedPoint,
    MovedProperties,
)

__all__ = ["COMPARED_FIGURES", "compare_documents"]

#: Figures of the zoning compared side by side (names of :func:`enrolment.comparison_table`).
COMPARED_FIGURES = (
    "mean_distance_m.walk",
    "median_distance_m.walk",
    "p90_distance_m.walk",
    "mean_distance_m.motorbike",
    "p90_distance_m.motorbike",
    "within_1km_walk_share",
    "within_2km_walk_share",
    "children",
    "shortfall_children",
    "not_nearest_children",
    "schools_over_capacity",
)


def _figures(document: EvaluationDocument) -> dict[str, float | None]:
    figures = document.zoning.figures
    return {name: figures.get(name) for name in COMPARED_FIGURES}


def _difference(after: float | None, before: float | None) -> float | None:
    if after is None or before is None:
        return None
    return round(after - before, 3)


def _compared(
    scenario_id: int, document: EvaluationDocument, baseline: EvaluationDocument
) -> ComparedScenario:
    """One scenario beside the baseline: figures, change, children moved and where."""
    base_school = {point[0]: point[4] for point in baseline.points}
    features = []
    flows: dict[tuple[str | None, str | None], float] = defaultdict(float)
    for point_id, lon, lat, children, school in document.points:
        if point_id not in base_school or base_school[point_id] == school:
            continue
        before = base_school[point_id]
        flows[before, school] += children or 0.0
        features.append(
            MovedFeature(
                geometry=MovedPoint(coordinates=(lon, lat)),
                properties=MovedProperties(
                    point_id=point_id, children=children, from_school=before, to_school=school
                ),
            )
        )
    figures = _figures(document)
    base_figures = _figures(baseline)
    return ComparedScenario(
        id=scenario_id,
        name=document.scenario.name,
        changes=document.scenario.changes,
        figures=figures,
        change={k: _difference(v, base_figures[k]) for k, v in figures.items()},
        forecast=document.forecast,
        moved_children=round(sum(flows.values()), 3),
        moved_points=len(features),
        flows=[
            Flow(from_school=a, to_school=b, children=round(c, 3))
            for (a, b), c in sorted(flows.items(), key=lambda item: -item[1])
        ],
        moved=MovedLayer(features=features),
        schools=document.schools,
    )


def compare_documents(
    baseline: EvaluationDocument, scenarios: Sequence[tuple[int, EvaluationDocument]]
) -> Comparison:
    """Put scenarios' evaluations beside the baseline's.

    Parameters
    ----------
    baseline
        The baseline's evaluation (:meth:`gis_service.planning.evaluation.Evaluation.document`).
    scenarios
        Each scenario's id with its evaluation.

    Returns
    -------
    Comparison
        ``baseline`` (figures, shortfall by year), and per scenario its figures, their
        change from the baseline, its shortfall by year, ``moved_children`` (children of
        the baseline's demand points whose zone school changes), the flows between
        schools, and ``moved``: a GeoJSON FeatureCollection of those points (EPSG:4326)
        with their children and both schools.
    """
    return Comparison(
        baseline=BaselineColumn(
            figures=_figures(baseline),
            forecast=baseline.forecast,
            schools=baseline.schools,
            context_hash=baseline.context_hash,
        ),
        scenarios=[_compared(key, document, baseline) for key, document in scenarios],
    )
