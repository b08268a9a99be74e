"""GIS enrolment and school-planning service.

The school registry, admission zones, admission rounds and placement, demand forecasts and
planning scenarios, with their HTTP API, command line and web map.
"""

__version__ = "0.1.0"
