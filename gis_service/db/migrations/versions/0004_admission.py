"""First-grade admission: rounds, applications, placement runs and results, audit log.

The audit log is append-only: a trigger refuses every UPDATE and DELETE of its rows.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "the audit log is append-only"
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
)
_POSTGRES_TRIGGERS = (
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
)


def upgrade() -> None:
    op.create_table(
        "admission_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("applications_close_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("results_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_choices", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("priority_categories", sa.JSON(), nullable=False),
        sa.Column("zone_version_id", sa.Integer(), nullable=True),
        sa.Column("seats", sa.JSON(), nullable=False),
        sa.Column("default_first_grade_classes", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'closed')", name=op.f("ck_admission_round_status")
        ),
        sa.CheckConstraint(
            "max_choices BETWEEN 1 AND 10", name=op.f("ck_admission_round_max_choices")
        ),
        sa.ForeignKeyConstraint(
            ["district_id"],
            ["district.id"],
            name=op.f("fk_admission_round_district_id_district"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["zone_version_id"],
            ["zone_version.id"],
            name=op.f("fk_admission_round_zone_version_id_zone_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admission_round")),
        sa.UniqueConstraint(
            "district_id", "year", "name", name="admission_round_district_year_name"
        ),
    )
    op.create_geospatial_table(
        "admission_application",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("child_name", sa.String(length=200), nullable=False),
        sa.Column("child_key", sa.String(length=220), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column(
            "home",
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
        sa.Column("ward_code", sa.String(length=16), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("sibling_school_codes", sa.JSON(), nullable=False),
        sa.Column("priority_category", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["admission_round.id"],
            name=op.f("fk_admission_application_round_id_admission_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admission_application")),
        sa.UniqueConstraint(
            "application_id", name=op.f("uq_admission_application_application_id")
        ),
    )
    with op.batch_alter_table("admission_application", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_admission_application_home",
            ["home"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index(
            batch_op.f("ix_admission_application_round_id"), ["round_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_admission_application_child_key"), ["child_key"], unique=False
        )

    op.create_table(
        "placement_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("inputs_json", sa.Text(), nullable=True),
        sa.Column("inputs_sha256", sa.String(length=64), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("statistics", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'done', 'failed', 'published')",
            name=op.f("ck_placement_run_status"),
        ),
        sa.CheckConstraint(
            "method IN ('deferred_acceptance', 'boston')", name=op.f("ck_placement_run_method")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["admission_round.id"],
            name=op.f("fk_placement_run_round_id_admission_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_run")),
    )
    op.create_index(
        op.f("ix_placement_run_round_id"), "placement_run", ["round_id"], unique=False
    )

    op.create_table(
        "placement_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("application_row_id", sa.Integer(), nullable=False),
        sa.Column("school_code", sa.String(length=32), nullable=True),
        sa.Column("choice_rank", sa.Integer(), nullable=True),
        sa.Column("guaranteed", sa.Boolean(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["placement_run.id"],
            name=op.f("fk_placement_result_run_id_placement_run"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["application_row_id"],
            ["admission_application.id"],
            name=op.f("fk_placement_result_application_row_id_admission_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_result")),
        sa.UniqueConstraint(
            "run_id", "application_row_id", name="placement_result_run_application"
        ),
    )
    op.create_index(
        op.f("ix_placement_result_run_id"), "placement_result", ["run_id"], unique=False
    )
    op.create_index(
        op.f("ix_placement_result_application_row_id"),
        "placement_result",
        ["application_row_id"],
        unique=False,
    )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("request_method", sa.String(length=16), nullable=False),
        sa.Column("request_path", sa.String(length=500), nullable=False),
        sa.Column("client_address", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_action"), "audit_log", ["action"], unique=False)
    op.create_index(op.f("ix_audit_log_object_id"), "audit_log", ["object_id"], unique=False)
    triggers = _SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else _POSTGRES_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    op.drop_index(op.f("ix_audit_log_object_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_action"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_placement_result_application_row_id"), table_name="placement_result")
    op.drop_index(op.f("ix_placement_result_run_id"), table_name="placement_result")
    op.drop_table("placement_result")
    op.drop_index(op.f("ix_placement_run_round_id"), table_name="placement_run")
    op.drop_table("placement_run")
    with op.batch_alter_table("admission_application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admission_application_child_key"))
        batch_op.drop_index(batch_op.f("ix_admission_application_round_id"))
        batch_op.drop_geospatial_index(
            "idx_admission_application_home", postgresql_using="gist", column_name="home"
        )

    op.drop_geospatial_table("admission_application")
    op.drop_table("admission_round")
