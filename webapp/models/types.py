"""Column helpers shared by the models."""

import enum
from datetime import UTC, datetime

from sqlalchemy import JSON, Enum
from sqlalchemy.dialects.postgresql import JSONB

# JSONB on PostgreSQL (indexable, compact), plain JSON on the embedded SQLite database.
JsonDocument = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def value_enum(cls: type[enum.Enum], name: str, **options) -> Enum:
    """A database enum that stores the members' values ("pending"), not their names."""
    return Enum(cls, name=name, values_callable=lambda members: [m.value for m in members], **options)
