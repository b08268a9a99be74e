"""Admission zoning, placement, capacity and forecasts on plain arrays and GeoDataFrames.

Zoning works on a cost matrix (demand points x schools, metres, ``inf`` for no route) that
the caller computes, e.g. with :mod:`routing`; this package never sees a road graph.
Placement (:mod:`enrolment.placement`) works on each child's ranked choices, priorities
and road distances to them.
"""

from enrolment.capacity import (
    DEFAULT_FIRST_GRADE_CLASSES,
    SeatEstimate,
    first_grade_seats,
)
from enrolment.cohort import FIRST_GRADE_AGE, CohortEstimate, first_grade_cohort
from enrolment.comparison import comparison_table, school_table, zone_statistics
from enrolment.contiguity import keep_network_neighbours, neighbour_pairs
from enrolment.demand import check_demand_points, demand_points, residential_features
from enrolment.errors import EnrolmentError, InfeasibleError, InvalidInputError
from enrolment.location import (
    SiteOptions,
    Sites,
    SiteSolution,
    max_covering_sites,
    p_median_sites,
)
from enrolment.placement import (
    MAX_PRIORITY_GROUP,
    MECHANISMS,
    Applications,
    ChildExplanation,
    ChoiceExplanation,
    ChoiceOutcome,
    NearestSchools,
    Placement,
    PlacementStatistics,
    PriorityRanking,
    SchoolCutoffs,
    lottery_numbers,
    place_applicants,
    rank_applicants,
)
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
    "DEFAULT_FIRST_GRADE_CLASSES",
    "FIRST_GRADE_AGE",
    "MAX_PRIORITY_GROUP",
    "MECHANISMS",
    "METHODS",
    "UNASSIGNED",
    "Applications",
    "ChildExplanation",
    "ChoiceExplanation",
    "ChoiceOutcome",
    "CohortEstimate",
    "ContiguityBreak",
    "EnrolmentError",
    "InfeasibleError",
    "InvalidInputError",
    "MethodStatistics",
    "ModeStatistics",
    "NearestSchools",
    "Placement",
    "PlacementStatistics",
    "PriorityRanking",
    "SchoolCutoffs",
    "SeatEstimate",
    "SiteOptions",
    "SiteSolution",
    "Sites",
    "SolveReport",
    "TravelCosts",
    "Zoning",
    "check_demand_points",
    "comparison_table",
    "demand_points",
    "first_grade_cohort",
    "first_grade_seats",
    "keep_network_neighbours",
    "lottery_numbers",
    "max_covering_sites",
    "nearest_zones",
    "neighbour_pairs",
    "optimal_zones",
    "p_median_sites",
    "place_applicants",
    "place_children",
    "rank_applicants",
    "residential_features",
    "school_table",
    "ward_zones",
    "zone_polygons",
    "zone_statistics",
]
