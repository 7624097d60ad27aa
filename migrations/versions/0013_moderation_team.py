"""A moderation team (issue 21): roles, claims, escalations, appeals, an audit log and wellness settings.

Revision ID: 0013_moderation_team
Revises: 0012_upload_refusals
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_moderation_team"
down_revision = "0012_upload_refusals"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("role", sa.String(20), nullable=False, server_default="user"))
        batch.add_column(sa.Column("review_blur", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.add_column(
            sa.Column("review_greyscale", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(sa.Column("review_reveal", sa.String(10), nullable=False, server_default="click"))
    op.execute("UPDATE users SET role = 'admin' WHERE is_admin")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_admin")

    with op.batch_alter_table("virtual_images") as batch:
        batch.add_column(sa.Column("claimed_by_id", sa.Uuid()))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("escalation_note", sa.Text()))
        batch.create_foreign_key(
            "fk_virtual_images_claimed_by", "users", ["claimed_by_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_virtual_images_claimed_by_id", ["claimed_by_id"])

    op.create_table(
        "appeals",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "virtual_image_id",
            sa.Uuid(),
            sa.ForeignKey("virtual_images.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("appellant_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("verdict_appealed", sa.String(20), nullable=False),
        sa.Column("appealed_reviewer_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), index=True),
        sa.Column("outcome", sa.String(20)),
        sa.Column("decided_by_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("reply", sa.Text()),
    )

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("actor_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("virtual_image_id", sa.Uuid()),
        sa.Column("before", sa.String(40)),
        sa.Column("after", sa.String(40)),
        sa.Column("note", sa.Text()),
    )
    op.create_index("ix_audit_events_image_at", "audit_events", ["virtual_image_id", "at"])
    op.create_index("ix_audit_events_actor_at", "audit_events", ["actor_id", "at"])


def downgrade():
    op.drop_table("audit_events")
    op.drop_table("appeals")
    with op.batch_alter_table("virtual_images") as batch:
        batch.drop_index("ix_virtual_images_claimed_by_id")
        batch.drop_constraint("fk_virtual_images_claimed_by", type_="foreignkey")
        for column in ("escalation_note", "escalated_at", "claimed_until", "claimed_by_id"):
            batch.drop_column(column)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE users SET is_admin = (role = 'admin')")
    with op.batch_alter_table("users") as batch:
        for column in ("review_reveal", "review_greyscale", "review_blur", "role"):
            batch.drop_column(column)
