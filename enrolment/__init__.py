"""Admission zoning, placement, capacity and forecasts on plain arrays and GeoDataFrames."""
