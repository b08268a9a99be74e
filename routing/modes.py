"""Travel modes: which roads each mode may use, how fast, and how ferries are counted.

The one speed table of the engine (metres per second; km/h in brackets for reading).
Motorbike speeds are typical door-to-door averages in Ho Chi Minh City traffic, not
legal limits; walking speeds are a child's walk accompanied by an adult.

=================  ================  ================================================
OSM ``highway``    walk              motorbike
=================  ================  ================================================
motorway, _link    not allowed       not allowed (motorbikes are banned on expressways)
trunk              1.2 (4.3)         8.3 (30)
trunk_link         1.2 (4.3)         6.9 (25)
primary            1.2 (4.3)         6.9 (25)
primary_link       1.2 (4.3)         5.6 (20)
secondary          1.2 (4.3)         6.1 (22)
secondary_link     1.2 (4.3)         5.0 (18)
tertiary           1.2 (4.3)         5.6 (20)
tertiary_link      1.2 (4.3)         4.7 (17)
unclassified       1.2 (4.3)         5.0 (18)
road               1.2 (4.3)         4.2 (15)
residential        1.2 (4.3)         4.2 (15)
living_street      1.2 (4.3)         3.3 (12)
service (hẻm)      1.2 (4.3)         3.3 (12)
track              1.1 (4.0)         2.8 (10)
path, bridleway    1.1 (4.0)         not allowed
footway,           1.2 (4.3)         not allowed
pedestrian,
cycleway,
corridor, platform
steps              0.5 (1.8)         not allowed
other classes      not allowed       not allowed (construction, proposed, raceway...)
ferry (route=)     2.8 (10) + wait   2.8 (10) + wait (10 minutes, half a 20-minute headway)
=================  ================  ================================================

Access tags narrow this table: ``access=no|private`` closes a way to both modes unless a
mode-specific tag (``foot``; ``motorcycle``, ``motor_vehicle``, ``vehicle``) opens it again,
and a mode-specific ``no|private`` closes it to that mode. One-way rules (``oneway``,
roundabouts) bind motorbikes only; pedestrians walk both ways. The off-network leg between
a point and the road it is snapped to is travelled at ``connector_speed_m_s``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from routing.errors import RoutingInputError

#: Walking speed of a child with an adult, in metres per second.
WALK_SPEED_M_S = 1.2
#: Speed of a ferry crossing, in metres per second.
FERRY_SPEED_M_S = 2.8
#: Expected wait at a ferry landing, in seconds (half a 20-minute headway).
FERRY_WAIT_S = 600.0

_CLOSED = frozenset({"no", "private"})
_OPEN = frozenset({"yes", "designated", "permissive", "destination", "permit"})

_WALK_SPEEDS_M_S: tuple[tuple[str, float], ...] = (
    ("trunk", WALK_SPEED_M_S),
    ("trunk_link", WALK_SPEED_M_S),
    ("primary", WALK_SPEED_M_S),
    ("primary_link", WALK_SPEED_M_S),
    ("secondary", WALK_SPEED_M_S),
    ("secondary_link", WALK_SPEED_M_S),
    ("tertiary", WALK_SPEED_M_S),
    ("tertiary_link", WALK_SPEED_M_S),
    ("unclassified", WALK_SPEED_M_S),
    ("road", WALK_SPEED_M_S),
    ("residential", WALK_SPEED_M_S),
    ("living_street", WALK_SPEED_M_S),
    ("service", WALK_SPEED_M_S),
    ("track", 1.1),
    ("path", 1.1),
    ("bridleway", 1.1),
    ("footway", WALK_SPEED_M_S),
    ("pedestrian", WALK_SPEED_M_S),
    ("cycleway", WALK_SPEED_M_S),
    ("corridor", WALK_SPEED_M_S),
    ("platform", WALK_SPEED_M_S),
    ("steps", 0.5),
)

_MOTORBIKE_SPEEDS_M_S: tuple[tuple[str, float], ...] = (
    ("trunk", 8.3),
    ("trunk_link", 6.9),
    ("primary", 6.9),
    ("primary_link", 5.6),
    ("secondary", 6.1),
    ("secondary_link", 5.0),
    ("tertiary", 5.6),
    ("tertiary_link", 4.7),
    ("unclassified", 5.0),
    ("road", 4.2),
    ("residential", 4.2),
    ("living_street", 3.3),
    ("service", 3.3),
    ("track", 2.8),
)


@dataclass(frozen=True, slots=True)
class TravelMode:
    """How one kind of traveller uses the road network.

    Attributes
    ----------
    name
        Short name used in APIs and caches (``"walk"``, ``"motorbike"``).
    speeds_m_s
        ``(highway class, speed in m/s)`` for every class the mode may use; a class that is
        not listed is closed to the mode.
    access_tags
        OSM access tags that concern the mode, most specific first; ``access`` is checked last.
    honours_oneway
        Whether one-way streets bind the mode.
    ferry_speed_m_s
        Crossing speed of a ferry, in m/s.
    ferry_wait_s
        Waiting time added to every ferry crossing, in seconds.
    connector_speed_m_s
        Speed on the off-network leg between a point and its snapped road, in m/s.
    """

    name: str
    speeds_m_s: tuple[tuple[str, float], ...]
    access_tags: tuple[str, ...]
    honours_oneway: bool
    ferry_speed_m_s: float = FERRY_SPEED_M_S
    ferry_wait_s: float = FERRY_WAIT_S
    connector_speed_m_s: float = WALK_SPEED_M_S

    def __post_init__(self) -> None:
        """Check that every speed is a positive number.

        Raises
        ------
        RoutingInputError
            If a speed or the ferry wait is not positive.
        """
        speeds = [s for _, s in self.speeds_m_s]
        speeds += [self.ferry_speed_m_s, self.connector_speed_m_s]
        if any(not speed > 0 for speed in speeds) or not self.ferry_wait_s >= 0:
            msg = f"travel mode {self.name!r}: speeds must be > 0 m/s and the ferry wait >= 0 s"
            raise RoutingInputError(msg, field="mode")

    def speed_of(self, highway: str) -> float | None:
        """Return the speed on a road of class ``highway`` in m/s, ``None`` when closed."""
        for name, speed in self.speeds_m_s:
            if name == highway:
                return speed
        return None

    def is_open(self, tags: Mapping[str, Any]) -> bool:
        """Return whether OSM access tags let this mode use a way.

        Parameters
        ----------
        tags
            The way's tags (only access-related keys are read).
        """
        for key in self.access_tags:
            value = tags.get(key)
            if isinstance(value, str):
                if value in _CLOSED:
                    return False
                if value in _OPEN:
                    return True
        return tags.get("access") not in _CLOSED

    def segment_speed_m_s(self, tags: Mapping[str, Any]) -> float | None:
        """Return the speed of this mode on a way with ``tags``, ``None`` when closed.

        Ferries (``route=ferry``) move at ``ferry_speed_m_s``; the wait is added per crossing
        by the network builder.

        Parameters
        ----------
        tags
            The way's OSM tags (``highway``, ``route``, access tags).
        """
        if not self.is_open(tags):
            return None
        if tags.get("route") == "ferry":
            return self.ferry_speed_m_s
        highway = tags.get("highway")
        if not isinstance(highway, str):
            return None
        return self.speed_of(highway)

    def fingerprint(self) -> str:
        """Return a canonical JSON text of the mode; two modes with equal texts route alike."""
        return json.dumps(
            {
                "name": self.name,
                "speeds_m_s": sorted(self.speeds_m_s),
                "access_tags": list(self.access_tags),
                "honours_oneway": self.honours_oneway,
                "ferry_speed_m_s": self.ferry_speed_m_s,
                "ferry_wait_s": self.ferry_wait_s,
                "connector_speed_m_s": self.connector_speed_m_s,
            },
            sort_keys=True,
        )


WALK = TravelMode(
    name="walk",
    speeds_m_s=_WALK_SPEEDS_M_S,
    access_tags=("foot",),
    honours_oneway=False,
    connector_speed_m_s=WALK_SPEED_M_S,
)

MOTORBIKE = TravelMode(
    name="motorbike",
    speeds_m_s=_MOTORBIKE_SPEEDS_M_S,
    access_tags=("motorcycle", "motor_vehicle", "vehicle"),
    honours_oneway=True,
    connector_speed_m_s=2.8,
)

#: The modes every network is built for, by name.
DEFAULT_MODES: tuple[TravelMode, ...] = (WALK, MOTORBIKE)


def resolve_mode(mode: TravelMode | str, available: tuple[TravelMode, ...]) -> TravelMode:
    """Return the mode named ``mode`` among ``available`` (or ``mode`` itself if it is one).

    Raises
    ------
    RoutingInputError
        If no available mode has that name.
    """
    name = mode.name if isinstance(mode, TravelMode) else mode
    for candidate in available:
        if candidate.name == name:
            if isinstance(mode, TravelMode) and mode != candidate:
                msg = f"mode {name!r} differs from the one the network was built with"
                raise RoutingInputError(msg, field="mode")
            return candidate
    names = ", ".join(m.name for m in available)
    msg = f"unknown travel mode {name!r}; this network has: {names}"
    raise RoutingInputError(msg, field="mode")
