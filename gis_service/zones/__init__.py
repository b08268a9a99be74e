"""First-grade admission zones: the district's geography, zone computation, a home's zone."""
