"""Pages built from core results: the folium maps and the forecast report."""
