"""Hash banks: named lists of PDQ hashes, their entries, and what decided an image without a provider.

Revision ID: 0006_hash_banks
Revises: 0005_pdq_hashes
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_hash_banks"
down_revision = "0005_pdq_hashes"
branch_labels = None
depends_on = None


def timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade():
    op.create_table(
        "hash_banks",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("action", sa.Enum("reject", "flag", name="bank_action"), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        timestamp("created_at"),
        timestamp("updated_at"),
    )
    op.create_table(
        "hash_bank_entries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("bank_id", sa.Uuid(), sa.ForeignKey("hash_banks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("pdq_hash", sa.String(64), nullable=False),
        sa.Column("crop_hashes", sa.Text()),
        sa.Column("origin", sa.Enum("review", "manual", "import", name="bank_entry_origin"), nullable=False),
        sa.Column("origin_image_id", sa.Uuid(), sa.ForeignKey("virtual_images.id", ondelete="SET NULL")),
        sa.Column("added_by_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("added_by_email", sa.String(320)),
        sa.Column("note", sa.Text()),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.UniqueConstraint("bank_id", "pdq_hash", name="uq_hash_bank_entries_bank_hash"),
    )
    op.create_index("ix_hash_bank_entries_bank_id", "hash_bank_entries", ["bank_id"])
    op.create_index("ix_hash_bank_entries_origin_image_id", "hash_bank_entries", ["origin_image_id"])
    op.create_index("ix_hash_bank_entries_revision", "hash_bank_entries", ["revision"])
    op.create_table(
        "hash_bank_revision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("epoch", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
    )
    with op.batch_alter_table("virtual_images") as batch:
        batch.add_column(sa.Column("matched_entry_id", sa.Uuid()))
        batch.add_column(sa.Column("duplicate_of_id", sa.Uuid()))
        batch.create_foreign_key(
            "fk_virtual_images_matched_entry",
            "hash_bank_entries",
            ["matched_entry_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_foreign_key(
            "fk_virtual_images_duplicate_of",
            "virtual_images",
            ["duplicate_of_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_virtual_images_matched_entry_id", ["matched_entry_id"])


def downgrade():
    with op.batch_alter_table("virtual_images") as batch:
        batch.drop_index("ix_virtual_images_matched_entry_id")
        batch.drop_constraint("fk_virtual_images_duplicate_of", type_="foreignkey")
        batch.drop_constraint("fk_virtual_images_matched_entry", type_="foreignkey")
        batch.drop_column("duplicate_of_id")
        batch.drop_column("matched_entry_id")
    op.drop_table("hash_bank_revision")
    op.drop_table("hash_bank_entries")
    op.drop_table("hash_banks")
    sa.Enum(name="bank_entry_origin").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="bank_action").drop(op.get_bind(), checkfirst=True)
