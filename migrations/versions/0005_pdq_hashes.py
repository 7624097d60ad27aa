"""Every photo's perceptual fingerprint: its PDQ hash and quality.

Revision ID: 0005_pdq_hashes
Revises: 0004_session_generations
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_pdq_hashes"
down_revision = "0004_session_generations"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("virtual_images") as batch:
        batch.add_column(sa.Column("pdq_hash", sa.String(64)))
        batch.add_column(sa.Column("pdq_quality", sa.Integer()))


def downgrade():
    with op.batch_alter_table("virtual_images") as batch:
        batch.drop_column("pdq_quality")
        batch.drop_column("pdq_hash")
