"""The planning context of each district, kept between requests while its inputs stay the same.

Building a context computes the district's baseline zones; the cache rebuilds it when the
adopted forecast inputs, the class-size cap, the next school year or the geography change.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from sqlalchemy.orm import Session

from gis_service.db.forecast_inputs_repository import adopted_forecast_input_version
from gis_service.forecasting.district import next_school_year
from gis_service.networks import DistrictNetwork
from gis_service.planning.evaluation import PlanningContext, planning_context
from gis_service.zones.geography import ZoningCache, bundled_zoning_manifest, read_zoning_manifest

__all__ = ["PlanningCache"]


class PlanningCache:
    """The latest planning context of each district, kept while its inputs are the same."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: dict[str, tuple[tuple[Any, ...], PlanningContext]] = {}

    def context(
        self,
        session: Session,
        district_net: DistrictNetwork,
        cache: ZoningCache,
        *,
        class_size_cap: int,
        today: dt.date,
    ) -> PlanningContext:
        """Return the district's planning context, rebuilt when its inputs change."""
        geography = cache.geography(
            session, district_net, read_zoning_manifest(bundled_zoning_manifest())
        )
        version = adopted_forecast_input_version(session, district_net.district.code)
        key = (
            None if version is None else version.inputs_hash,
            class_size_cap,
            next_school_year(today),
        )
        with self._lock:
            found = self._built.get(district_net.district.code)
            if found is None or found[0] != key or found[1].geography is not geography:
                built = planning_context(
                    session, district_net, cache, class_size_cap=class_size_cap, today=today
                )
                self._built[district_net.district.code] = (key, built)
                return built
            return found[1]
