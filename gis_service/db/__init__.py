"""The registry store: ORM models, engines, migrations and every query."""
