"""Admission: rounds, applications and placement runs with their explanations."""
