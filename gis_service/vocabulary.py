"""The words the service stores for roles and admission rules, defined once.

The store's check constraints, the input models of the API and the command line all read
these tuples, so a new word is added here and nowhere else.
"""

from __future__ import annotations

#: Roles an API key may hold, from the least to the most trusted.
ROLES = ("public", "enrolment_officer", "planner", "registry_editor", "admin")
#: Placement methods a round may run: student-proposing deferred acceptance, or the Boston
#: mechanism (immediate acceptance).
RUN_METHODS = ("deferred_acceptance", "boston")
#: Priority rules a round may order; ``everyone`` matches every child.
PRIORITY_RULES = ("in_zone", "sibling", "priority_category", "everyone")
#: Most choices a round may allow.
MAX_CHOICES_LIMIT = 10
