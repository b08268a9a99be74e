"""Planning: what-if scenarios over the registry and suggested sites for new schools."""
