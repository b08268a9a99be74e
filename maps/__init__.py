"""Folium pages built from core results."""
