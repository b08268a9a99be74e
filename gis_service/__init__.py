"""GIS enrolment and school-planning service: the school registry and its HTTP API."""

__version__ = "0.1.0"
