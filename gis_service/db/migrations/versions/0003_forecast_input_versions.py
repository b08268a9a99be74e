"""Forecast inputs: named, immutable versions of a planner's forecast inputs per district.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ADOPTED = sa.text("status = 'adopted'")


def upgrade() -> None:
    op.create_table(
        "forecast_input_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("based_on_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("adopted_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'adopted', 'superseded')",
            name=op.f("ck_forecast_input_version_status"),
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name=op.f("fk_forecast_input_version_district_id_district"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["based_on_id"],
            ["forecast_input_version.id"],
            name=op.f("fk_forecast_input_version_based_on_id_forecast_input_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_input_version")),
        sa.UniqueConstraint(
            "district_id", "name", name="forecast_input_version_district_name"
        ),
    )
    op.create_index(
        "forecast_input_version_one_adopted",
        "forecast_input_version",
        ["district_id"],
        unique=True,
        postgresql_where=ADOPTED,
        sqlite_where=ADOPTED,
    )


def downgrade() -> None:
    op.drop_index("forecast_input_version_one_adopted", table_name="forecast_input_version")
    op.drop_table("forecast_input_version")
