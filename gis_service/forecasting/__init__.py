"""First-grade demand against capacity: inputs, the district forecast, versions, the report."""
