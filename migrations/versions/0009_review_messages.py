"""Reviewer notes stay internal; a reviewer's message to the uploader is kept apart (issue 18).

Revision ID: 0009_review_messages
Revises: 0008_user_signing_secrets
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_review_messages"
down_revision = "0008_user_signing_secrets"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("moderation_reviews") as batch:
        batch.add_column(sa.Column("message", sa.Text()))


def downgrade():
    with op.batch_alter_table("moderation_reviews") as batch:
        batch.drop_column("message")
