"""Admission zones: named, dated zone versions with their zone polygons and demand points.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "zone_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("statistics", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "method IN ('ward', 'nearest', 'optimal')", name=op.f("ck_zone_version_method")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'superseded')", name=op.f("ck_zone_version_status")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name=op.f("fk_zone_version_district_id_district"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zone_version")),
        sa.UniqueConstraint("district_id", "name", name="zone_version_district_name"),
    )
    op.create_geospatial_table(
        "zone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=True),
        sa.Column("school_name", sa.String(length=300), nullable=True),
        sa.Column("children", sa.Float(), nullable=False),
        sa.Column("seats", sa.Float(), nullable=True),
        sa.Column("seats_assumed", sa.Boolean(), nullable=False),
        sa.Column(
            "boundary",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["zone_version.id"],
            name=op.f("fk_zone_version_id_zone_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zone")),
    )
    with op.batch_alter_table("zone", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_zone_boundary",
            ["boundary"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index(batch_op.f("ix_zone_version_id"), ["version_id"], unique=False)

    op.create_geospatial_table(
        "zone_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.String(length=64), nullable=False),
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("children", sa.Float(), nullable=False),
        sa.Column("placed", sa.Float(), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["zone_version.id"],
            name=op.f("fk_zone_point_version_id_zone_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zone_point")),
    )
    with op.batch_alter_table("zone_point", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_zone_point_location",
            ["location"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index(
            batch_op.f("ix_zone_point_version_id"), ["version_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("zone_point", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zone_point_version_id"))
        batch_op.drop_geospatial_index(
            "idx_zone_point_location", postgresql_using="gist", column_name="location"
        )

    op.drop_geospatial_table("zone_point")
    with op.batch_alter_table("zone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_zone_version_id"))
        batch_op.drop_geospatial_index(
            "idx_zone_boundary", postgresql_using="gist", column_name="boundary"
        )

    op.drop_geospatial_table("zone")
    op.drop_table("zone_version")
