"""The one rule for the zone of a home (and the ward of an application), on hand-made polygons.

The zones below are unit squares side by side (EPSG:4326 degrees, the rule does not care
about the size): ``A`` and ``B`` share the edge ``x = 1``; ``C`` starts a hundredth of a
degree after ``B`` ends, leaving a sliver; the area ``None`` (no school reached) shares
the edge ``x = 3`` with ``C``.
"""

from __future__ import annotations

import pytest
from shapely import box

from gis_service.db.zones_repository import ZoneRecord
from gis_service.zones.eligibility import areas_holding, zone_for_homes


def _zone(code: str | None, x0: float, x1: float) -> ZoneRecord:
    return ZoneRecord(
        school_code=code,
        school_name=None if code is None else f"school {code}",
        children=10.0,
        seats=None if code is None else 35.0,
        seats_assumed=False,
        boundary=box(x0, 0.0, x1, 1.0),
    )


# given out of order: the rule must not depend on the order of the version's zones
ZONES = [_zone(None, 3.0, 4.0), _zone("C", 2.01, 3.0), _zone("B", 1.0, 2.0), _zone("A", 0.0, 1.0)]


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (0.5, 0.5, "A"),  # inside
        (1.5, 0.5, "B"),
        (3.5, 0.5, None),  # inside the area that reaches no school
        (1.0, 0.5, "A"),  # on the edge shared by A and B: the first school code
        (3.0, 0.5, "C"),  # on the edge of C and the area of no school: the school
        (0.0, 0.0, "A"),  # on a corner of the district
        (2.004, 0.5, "B"),  # in the sliver between B and C: the nearer zone
        (2.006, 0.5, "C"),
        (-0.2, 0.5, "A"),  # outside every zone: the nearest
        (9.0, 0.5, None),
    ],
)
def test_a_home_belongs_to_the_zone_that_holds_it_else_the_nearest(
    lon: float, lat: float, expected: str | None
) -> None:
    assert zone_for_homes(ZONES, [lon], [lat]) == [expected]


def test_a_home_equally_near_two_zones_goes_to_the_first_school_code() -> None:
    gap = [_zone("Z", 1.01, 2.0), _zone("Y", 0.0, 0.99)]
    assert zone_for_homes(gap, [1.0], [0.5]) == ["Y"]


def test_homes_are_answered_in_their_order() -> None:
    lon = [3.5, 0.5, 1.0, 2.006, 1.5]
    lat = [0.5] * 5
    assert zone_for_homes(ZONES, lon, lat) == [None, "A", "A", "C", "B"]
    assert zone_for_homes(ZONES, [], []) == []


def test_without_zones_no_home_has_a_zone() -> None:
    assert zone_for_homes([], [0.5, 9.0], [0.5, 0.5]) == [None, None]


def test_wards_follow_the_same_rule() -> None:
    wards = {"27139": box(1.0, 0.0, 2.0, 1.0), "27130": box(0.0, 0.0, 1.0, 1.0)}
    assert areas_holding(wards.items(), [1.0, 1.5, 2.2], [0.5, 0.5, 0.5]) == [
        "27130",
        "27139",
        "27139",
    ]
    assert areas_holding({}.items(), [0.5], [0.5]) == [None]
