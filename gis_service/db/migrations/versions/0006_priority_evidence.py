"""Evidence for priority categories: a claim is checked by an officer; a round's rule.

An application's priority category is ``claimed`` until an enrolment officer records it
``verified`` or ``rejected`` (``priority_status``, who and when). A round's
``claimed_priority_counts`` says whether claims still unchecked count in placement; the
rounds that exist when this runs keep counting them as before, new ones do not. Claims
already stored become ``claimed``.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "admission_application", sa.Column("priority_status", sa.String(length=16), nullable=True)
    )
    op.add_column(
        "admission_application",
        sa.Column("priority_checked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "admission_application",
        sa.Column("priority_checked_by", sa.String(length=200), nullable=True),
    )
    op.execute(
        "UPDATE admission_application SET priority_status = 'claimed' "
        "WHERE priority_category IS NOT NULL"
    )
    op.add_column(
        "admission_round",
        sa.Column(
            "claimed_priority_counts", sa.Boolean(), nullable=False, server_default=sa.false()
        ),
    )
    op.execute("UPDATE admission_round SET claimed_priority_counts = TRUE")


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35 and later, PostgreSQL): copying the
    # tables, as a batch would, is not needed for columns nothing else refers to
    for table, column in (
        ("admission_round", "claimed_priority_counts"),
        ("admission_application", "priority_checked_by"),
        ("admission_application", "priority_checked_at"),
        ("admission_application", "priority_status"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
