"""A job keeps the files refused at upload, with why, so its page can name them (issue 19).

Revision ID: 0012_upload_refusals
Revises: 0011_user_access
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_upload_refusals"
down_revision = "0011_user_access"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "bulk_job_refusals",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "job_id", sa.Uuid(), sa.ForeignKey("nsfw_bulk_jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("upload_order", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("job_id", "upload_order", name="uq_bulk_job_refusals_order"),
    )


def downgrade():
    op.drop_table("bulk_job_refusals")
