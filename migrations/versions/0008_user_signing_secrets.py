"""Each user's own signing secret for job.completed events (issue 18).

Revision ID: 0008_user_signing_secrets
Revises: 0007_first_run
Create Date: 2026-12-04
"""

import base64
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0008_user_signing_secrets"
down_revision = "0007_first_run"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Uuid()), sa.column("signing_secret", sa.String(128)))


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("signing_secret", sa.String(128)))
        batch.add_column(sa.Column("previous_signing_secret", sa.String(128)))
        batch.add_column(sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True)))
    connection = op.get_bind()
    # Every existing user gets a secret of their own, in the app's form (written out here, since a
    # migration must not change when the app's code does).
    for user_id in connection.scalars(sa.select(users.c.id)).all():
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        connection.execute(users.update().where(users.c.id == user_id).values(signing_secret=secret))
    with op.batch_alter_table("users") as batch:
        batch.alter_column("signing_secret", existing_type=sa.String(128), nullable=False)


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_signing_secret")
        batch.drop_column("signing_secret")
