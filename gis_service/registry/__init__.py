"""The school registry: one-school writes with history, rows checked against a district, quality."""
