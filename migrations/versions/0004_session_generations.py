"""Sessions that end: a per-user session generation, and when each API token was last used.

Revision ID: 0004_session_generations
Revises: 0003_reviews_and_webhooks
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_session_generations"
down_revision = "0003_reviews_and_webhooks"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True)))


def downgrade():
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_generation")
