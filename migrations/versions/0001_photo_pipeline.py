"""Users and tokens, photo processing sessions, their stored images, virtual images.

Revision ID: 0001_photo_pipeline
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001_photo_pipeline"
down_revision = None
branch_labels = None
depends_on = None

SESSION_STATUS = sa.Enum("pending", "processing", "completed", "failed", name="session_status")
IMAGE_KIND = sa.Enum("original", "thumbnail_original", "processed", "thumbnail_processed", name="image_kind")
MODERATION_STATUS = sa.Enum("pending", "approved", "flagged", "rejected", "error", name="moderation_status")
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def timestamp(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(256)),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        timestamp("created_at"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("user_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        timestamp("created_at"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "photo_processing_sessions",
        sa.Column("session_id", sa.Uuid(), primary_key=True),
        sa.Column("owner_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", SESSION_STATUS, nullable=False),
        # Nullable until the original is stored; the foreign keys are added below, once s3_images exists.
        sa.Column("original_image_id", sa.Uuid()),
        sa.Column("processed_image_id", sa.Uuid()),
        sa.Column("error", sa.Text()),
        timestamp("created_at"),
        timestamp("updated_at"),
        timestamp("completed_at", nullable=True),
    )
    op.create_index("ix_sessions_owner_created", "photo_processing_sessions", ["owner_id", "created_at"])
    op.create_index("ix_photo_processing_sessions_status", "photo_processing_sessions", ["status"])
    op.create_table(
        "s3_images",
        sa.Column("image_id", sa.Uuid(), primary_key=True),
        sa.Column(
            "session_id",
            sa.Uuid(),
            sa.ForeignKey("photo_processing_sessions.session_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", IMAGE_KIND, nullable=False),
        sa.Column("bucket", sa.String(255), nullable=False),
        sa.Column("key", sa.String(1024), nullable=False, unique=True),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("bytes", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        timestamp("created_at"),
        sa.UniqueConstraint("session_id", "kind", name="uq_s3_images_session_kind"),
    )
    with op.batch_alter_table("photo_processing_sessions") as batch:
        batch.create_foreign_key(
            "fk_sessions_original_image", "s3_images", ["original_image_id"], ["image_id"], ondelete="CASCADE"
        )
        batch.create_foreign_key(
            "fk_sessions_processed_image",
            "s3_images",
            ["processed_image_id"],
            ["image_id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "virtual_images",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "session_id",
            sa.Uuid(),
            sa.ForeignKey("photo_processing_sessions.session_id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("original_filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("moderation_status", MODERATION_STATUS, nullable=False),
        sa.Column("is_nsfw", sa.Boolean()),
        sa.Column("rekognition_data", JSON_DOCUMENT),
        sa.Column("model_version", sa.String(100)),
        sa.Column("source", sa.String(20)),
        sa.Column("provider", sa.String(30)),
        sa.Column("moderation_error", sa.Text()),
        sa.Column("reviewed_by_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        timestamp("reviewed_at", nullable=True),
        timestamp("created_at"),
        timestamp("updated_at"),
    )
    op.create_index("ix_virtual_images_moderation_status", "virtual_images", ["moderation_status"])
    op.create_index("ix_virtual_images_sha256", "virtual_images", ["sha256"])


def downgrade():
    op.drop_table("virtual_images")
    with op.batch_alter_table("photo_processing_sessions") as batch:
        batch.drop_constraint("fk_sessions_processed_image", type_="foreignkey")
        batch.drop_constraint("fk_sessions_original_image", type_="foreignkey")
    op.drop_table("s3_images")
    op.drop_table("photo_processing_sessions")
    op.drop_table("api_tokens")
    op.drop_table("users")
    for enum in (MODERATION_STATUS, IMAGE_KIND, SESSION_STATUS):
        enum.drop(op.get_bind(), checkfirst=True)
