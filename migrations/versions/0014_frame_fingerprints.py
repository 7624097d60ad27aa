"""The PDQ hashes of an animation's sampled frames (issue 22).

Revision ID: 0014_frame_fingerprints
Revises: 0013_moderation_team
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_frame_fingerprints"
down_revision = "0013_moderation_team"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "frame_fingerprints",
        sa.Column(
            "virtual_image_id",
            sa.Uuid(),
            sa.ForeignKey("virtual_images.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("frame_index", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("pdq_hash", sa.String(64), nullable=False),
        sa.Column("pdq_quality", sa.Integer(), nullable=False),
    )


def downgrade():
    op.drop_table("frame_fingerprints")
