"""The first run: a one-row table whose fixed key the first admin's transaction takes.

Revision ID: 0007_first_run
Revises: 0006_hash_banks
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_first_run"
down_revision = "0006_hash_banks"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "first_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_first_run_one_row"),
    )


def downgrade():
    op.drop_table("first_run")
