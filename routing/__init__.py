"""Road-network distances: graphs from OSM, snapping, cost matrices, routes."""
