"""Admins can disable an account without deleting it (issue 19).

Revision ID: 0011_user_access
Revises: 0010_token_names
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_user_access"
down_revision = "0010_token_names"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True)))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled_at")
