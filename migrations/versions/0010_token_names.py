"""API tokens get a name their owner gives them on /account or through the API (issue 19).

Revision ID: 0010_token_names
Revises: 0009_review_messages
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_token_names"
down_revision = "0009_review_messages"
branch_labels = None
depends_on = None

# What the tokens made before names are called on /account (written out here, since a migration
# must not change when the app's code does).
UNNAMED = "token made before names"

api_tokens = sa.table("api_tokens", sa.column("name", sa.String(100)))


def upgrade():
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("name", sa.String(100)))
    op.get_bind().execute(api_tokens.update().values(name=UNNAMED))
    with op.batch_alter_table("api_tokens") as batch:
        batch.alter_column("name", existing_type=sa.String(100), nullable=False)


def downgrade():
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("name")
