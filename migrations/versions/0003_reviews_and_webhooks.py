"""External moderation, human review and job notifications.

Revision ID: 0003_reviews_and_webhooks
Revises: 0002_bulk_jobs
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_reviews_and_webhooks"
down_revision = "0002_bulk_jobs"
branch_labels = None
depends_on = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def timestamp(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    with op.batch_alter_table("virtual_images") as batch:
        batch.add_column(timestamp("external_requested_at"))
        batch.add_column(timestamp("external_deadline_at"))
        batch.add_column(timestamp("external_event_at"))
    with op.batch_alter_table("nsfw_bulk_jobs") as batch:
        batch.add_column(sa.Column("callback_url", sa.Text()))
        batch.add_column(timestamp("notification_claimed_at"))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("default_callback_url", sa.Text()))
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("webhook_id", sa.String(255), nullable=False, unique=True),
        timestamp("sent_at", nullable=False),
        timestamp("received_at", nullable=False),
        sa.Column("virtual_image_id", sa.Uuid(), sa.ForeignKey("virtual_images.id", ondelete="SET NULL")),
        sa.Column("payload", JSON_DOCUMENT, nullable=False),
        sa.Column("result", sa.String(30), nullable=False),
    )
    op.create_index("ix_webhook_events_virtual_image_id", "webhook_events", ["virtual_image_id"])
    op.create_table(
        "moderation_reviews",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "virtual_image_id",
            sa.Uuid(),
            sa.ForeignKey("virtual_images.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("reviewer_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("reviewer_email", sa.String(320), nullable=False),
        sa.Column("verdict_before", sa.String(20), nullable=False),
        sa.Column("verdict_after", sa.String(20), nullable=False),
        sa.Column("note", sa.Text()),
        timestamp("created_at", nullable=False),
    )
    op.create_index("ix_moderation_reviews_virtual_image_id", "moderation_reviews", ["virtual_image_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "job_id", sa.Uuid(), sa.ForeignKey("nsfw_bulk_jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(50), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("error", sa.Text()),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        timestamp("next_retry_at"),
        timestamp("created_at", nullable=False),
    )
    op.create_index("ix_webhook_deliveries_job_id", "webhook_deliveries", ["job_id"])
    # The review queue: flagged and errored images, oldest first.
    op.create_index("ix_virtual_images_status_created", "virtual_images", ["moderation_status", "created_at"])


def downgrade():
    op.drop_index("ix_virtual_images_status_created", "virtual_images")
    op.drop_table("webhook_deliveries")
    op.drop_table("moderation_reviews")
    op.drop_table("webhook_events")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("default_callback_url")
    with op.batch_alter_table("nsfw_bulk_jobs") as batch:
        batch.drop_column("notification_claimed_at")
        batch.drop_column("callback_url")
    with op.batch_alter_table("virtual_images") as batch:
        batch.drop_column("external_event_at")
        batch.drop_column("external_deadline_at")
        batch.drop_column("external_requested_at")
