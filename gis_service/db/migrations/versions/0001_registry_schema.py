"""Registry schema: districts, wards, schools, enrolment, history, road networks, API keys.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('public', 'enrolment_officer', 'planner', 'registry_editor', 'admin')",
            name=op.f("ck_api_key_role"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_key_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_api_key_name")),
    )
    op.create_geospatial_table(
        "district",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("province_code", sa.String(length=16), nullable=True),
        sa.Column("province_name", sa.String(length=200), nullable=True),
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
        sa.Column("metric_epsg", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("population_year", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_district")),
        sa.UniqueConstraint("code", name=op.f("uq_district_code")),
    )
    with op.batch_alter_table("district", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_district_boundary",
            ["boundary"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )

    op.create_table(
        "school_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_history")),
        sa.UniqueConstraint("school_code", "version", name="school_code_version"),
    )
    with op.batch_alter_table("school_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_school_history_school_code"), ["school_code"], unique=False
        )

    op.create_table(
        "road_network",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name=op.f("fk_road_network_district_id_district"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_road_network")),
    )
    op.create_geospatial_table(
        "ward",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "name_key",
            sa.String(length=300).with_variant(sa.String(length=300, collation="C"), "postgresql"),
            nullable=False,
        ),
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
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("population_year", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name=op.f("fk_ward_district_id_district"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ward")),
        sa.UniqueConstraint("code", name=op.f("uq_ward_code")),
    )
    with op.batch_alter_table("ward", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_ward_boundary",
            ["boundary"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index(batch_op.f("ix_ward_name_key"), ["name_key"], unique=False)

    op.create_geospatial_table(
        "school",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("ward_code", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "name_key",
            sa.String(length=300).with_variant(sa.String(length=300, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("level", sa.String(length=16), nullable=True),
        sa.Column("level_inferred", sa.Boolean(), nullable=False),
        sa.Column("ownership", sa.String(length=16), nullable=True),
        sa.Column("address", sa.String(length=500), nullable=True),
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
        sa.Column("first_grade_classes", sa.Integer(), nullable=True),
        sa.Column("class_size_cap", sa.Integer(), nullable=False),
        sa.Column("class_size_cap_is_default", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("website", sa.String(length=300), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_ref", sa.String(length=100), nullable=True),
        sa.Column("last_verified", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "level IN ('mam_non', 'tieu_hoc', 'thcs', 'thpt', 'lien_cap')",
            name=op.f("ck_school_level"),
        ),
        sa.CheckConstraint(
            "ownership IN ('cong_lap', 'tu_thuc')", name=op.f("ck_school_ownership")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'planned', 'closed')", name=op.f("ck_school_status")
        ),
        sa.CheckConstraint("class_size_cap > 0", name=op.f("ck_school_class_size_cap")),
        sa.CheckConstraint("first_grade_classes >= 0", name=op.f("ck_school_first_grade_classes")),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name=op.f("fk_school_district_id_district"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["ward.code"], name=op.f("fk_school_ward_code_ward")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school")),
        sa.UniqueConstraint("code", name=op.f("uq_school_code")),
        sa.UniqueConstraint("source_ref", name=op.f("uq_school_source_ref")),
    )
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_school_location",
            ["location"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index(batch_op.f("ix_school_name_key"), ["name_key"], unique=False)

    op.create_table(
        "school_enrolment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("grade", sa.Integer(), nullable=False),
        sa.Column("pupils", sa.Integer(), nullable=False),
        sa.CheckConstraint("grade BETWEEN 1 AND 12", name=op.f("ck_school_enrolment_grade")),
        sa.CheckConstraint("pupils >= 0", name=op.f("ck_school_enrolment_pupils")),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
            name=op.f("fk_school_enrolment_school_id_school"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_school_enrolment")),
        sa.UniqueConstraint("school_id", "school_year", "grade", name="school_year_grade"),
    )


def downgrade() -> None:
    op.drop_table("school_enrolment")
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_name_key"))
        batch_op.drop_geospatial_index(
            "idx_school_location", postgresql_using="gist", column_name="location"
        )

    op.drop_geospatial_table("school")
    with op.batch_alter_table("ward", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ward_name_key"))
        batch_op.drop_geospatial_index(
            "idx_ward_boundary", postgresql_using="gist", column_name="boundary"
        )

    op.drop_geospatial_table("ward")
    op.drop_table("road_network")
    with op.batch_alter_table("school_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_school_history_school_code"))

    op.drop_table("school_history")
    with op.batch_alter_table("district", schema=None) as batch_op:
        batch_op.drop_geospatial_index(
            "idx_district_boundary", postgresql_using="gist", column_name="boundary"
        )

    op.drop_geospatial_table("district")
    op.drop_table("api_key")
