"""The words the service uses for roles, school levels, forecast levels and admission rules.

The store's check constraints, the input models of the API and the command line all read
these names, so a new word is added here and nowhere else. The module imports nothing
heavy, so the command line can offer the words when it starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal

#: Roles an API key may hold, from the least to the most trusted.
ROLES = ("public", "enrolment_officer", "planner", "registry_editor", "admin")

#: School levels that take first-graders (grade 1): primary and multi-level schools.
FIRST_GRADE_LEVELS = ("tieu_hoc", "lien_cap")
#: Where a forecast is summed: per ward, per school, or per published admission zone.
ForecastLevel = Literal["ward", "school", "zone"]

#: A placement method a round may run, as the API and the store name it.
RunMethod = Literal["deferred_acceptance", "boston"]
#: The mechanism of the enrolment core (:func:`enrolment.place_applicants`) that each run
#: method runs: student-proposing deferred acceptance, or the Boston mechanism, which the
#: core calls immediate acceptance.
MECHANISM_OF: Mapping[RunMethod, str] = MappingProxyType(
    {"deferred_acceptance": "deferred_acceptance", "boston": "immediate_acceptance"}
)
#: Placement methods a round may run.
RUN_METHODS: tuple[RunMethod, ...] = tuple(MECHANISM_OF)
#: The one run method whose results a round may publish; the others are for comparison.
PUBLISHABLE_METHOD: RunMethod = "deferred_acceptance"

#: Priority rules a round may order; ``everyone`` matches every child.
PRIORITY_RULES = ("in_zone", "sibling", "priority_category", "everyone")
#: Most choices a round may allow.
MAX_CHOICES_LIMIT = 10

__all__ = [
    "FIRST_GRADE_LEVELS",
    "MAX_CHOICES_LIMIT",
    "MECHANISM_OF",
    "PRIORITY_RULES",
    "PUBLISHABLE_METHOD",
    "ROLES",
    "RUN_METHODS",
    "ForecastLevel",
    "RunMethod",
]
