"""Admission zoning, placement, capacity and forecasts on plain arrays and GeoDataFrames.

Zoning works on a cost matrix (demand points x schools, metres, ``inf`` for no route) that
the caller computes, e.g. with :mod:`routing`; this package never sees a road graph.
"""

from enrolment.capacity import (
    DEFAULT_CLASS_SIZE_CAP,
    DEFAULT_FIRST_GRADE_CLASSES,
    SeatEstimate,
    first_grade_seats,
)
from enrolment.cohort import FIRST_GRADE_AGE, CohortEstimate, first_grade_cohort
from enrolment.comparison import comparison_table, school_table, zone_statistics
from enrolment.contiguity import keep_network_neighbours, neighbour_pairs
from enrolment.demand import check_demand_points, demand_points, residential_features
from enrolment.errors import EnrolmentError, InfeasibleError, InvalidInputError
from enrolment.types import (
    METHODS,
    UNASSIGNED,
    ContiguityBreak,
    MethodStatistics,
    ModeStatistics,
    SolveReport,
    TravelCosts,
    Zoning,
)
from enrolment.zone_geometry import zone_polygons
from enrolment.zoning import nearest_zones, optimal_zones, place_children, ward_zones

__all__ = [
    "DEFAULT_CLASS_SIZE_CAP",
    "DEFAULT_FIRST_GRADE_CLASSES",
    "FIRST_GRADE_AGE",
    "METHODS",
    "UNASSIGNED",
    "CohortEstimate",
    "ContiguityBreak",
    "EnrolmentError",
    "InfeasibleError",
    "InvalidInputError",
    "MethodStatistics",
    "ModeStatistics",
    "SeatEstimate",
    "SolveReport",
    "TravelCosts",
    "Zoning",
    "check_demand_points",
    "comparison_table",
    "demand_points",
    "first_grade_cohort",
    "first_grade_seats",
    "keep_network_neighbours",
    "nearest_zones",
    "neighbour_pairs",
    "optimal_zones",
    "place_children",
    "residential_features",
    "school_table",
    "ward_zones",
    "zone_polygons",
    "zone_statistics",
]
