"""Uploads straight to the bucket: what each client declared, until and after it completes (issue 24).

Revision ID: 0015_direct_uploads
Revises: 0014_frame_fingerprints
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_direct_uploads"
down_revision = "0014_frame_fingerprints"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "direct_uploads",
        sa.Column(
            "session_id",
            sa.Uuid(),
            sa.ForeignKey("photo_processing_sessions.session_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("provider", sa.String(30), nullable=False),
        sa.Column("job_id", sa.Uuid(), sa.ForeignKey("nsfw_bulk_jobs.id", ondelete="CASCADE"), nullable=True),
        sa.Column("upload_order", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("job_id", "upload_order", name="uq_direct_uploads_job_order"),
    )
    op.create_index("ix_direct_uploads_created_at", "direct_uploads", ["created_at"])


def downgrade():
    op.drop_index("ix_direct_uploads_created_at", "direct_uploads")
    op.drop_table("direct_uploads")
