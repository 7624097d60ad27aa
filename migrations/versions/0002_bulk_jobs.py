"""Bulk NSFW jobs and bulk_job_virtual_images, the mapping from a job to its virtual images.

Revision ID: 0002_bulk_jobs
Revises: 0001_photo_pipeline
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_bulk_jobs"
down_revision = "0001_photo_pipeline"
branch_labels = None
depends_on = None

JOB_STATUS = sa.Enum(
    "uploading",
    "queued",
    "processing",
    "completed",
    "completed_with_errors",
    "failed",
    "cancelled",
    name="job_status",
)
COUNTERS = (
    "orders_reserved",
    "total",
    "refused",
    "processed",
    "pending",
    "approved",
    "flagged",
    "rejected",
    "failed",
)


def upgrade():
    op.create_table(
        "nsfw_bulk_jobs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("provider", sa.String(30), nullable=False),
        sa.Column("status", JOB_STATUS, nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTERS),
        sa.Column("provider_job_id", sa.String(128)),
        sa.Column("error", sa.Text()),
        sa.Column("notes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_jobs_owner_created", "nsfw_bulk_jobs", ["owner_id", "created_at"])
    op.create_table(
        "bulk_job_virtual_images",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "job_id", sa.Uuid(), sa.ForeignKey("nsfw_bulk_jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "virtual_image_id",
            sa.Uuid(),
            sa.ForeignKey("virtual_images.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("s3_key", sa.String(1024), nullable=False),
        sa.Column("upload_order", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("job_id", "upload_order", name="uq_bulk_job_images_order"),
        sa.UniqueConstraint("job_id", "virtual_image_id", name="uq_bulk_job_images_virtual_image"),
    )
    op.create_index(
        "ix_bulk_job_virtual_images_virtual_image_id", "bulk_job_virtual_images", ["virtual_image_id"]
    )


def downgrade():
    op.drop_table("bulk_job_virtual_images")
    op.drop_table("nsfw_bulk_jobs")
    JOB_STATUS.drop(op.get_bind(), checkfirst=True)
