"""The declarative base and the column types every model shares."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Constraint names are derived, never written by hand, so that a migration
# generated on SQLite names things exactly as one generated on Postgres.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on both dialects.

    Postgres stores `timestamptz`; SQLite stores naive UTC text. Naive values
    handed in are taken to be UTC already.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQL results on SQLite
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# JSONB on Postgres (indexable, compact), JSON text on SQLite.
# A Python None is SQL NULL, not the JSON text 'null', so `IS NULL` finds it.
JSONType = sa.JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")

# A list of floating-point numbers: a float8[] on Postgres (built and read
# with no parsing or number formatting, unlike JSON), a JSON array on SQLite.
FloatArray = sa.JSON(none_as_null=True).with_variant(
    postgresql.ARRAY(postgresql.DOUBLE_PRECISION), "postgresql"
)

# Money: exact decimals.
Money = sa.Numeric(14, 2)

# Big integer keys for the tables that grow without bound; plain INTEGER on
# SQLite so that the column is the rowid alias and autoincrements.
BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def enum_column(enum: type[StrEnum], name: str) -> sa.Enum:
    """A portable enum: VARCHAR plus a named CHECK constraint (no native type)."""
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
    }


class CreatedAt:
    """Mixin: a created_at stamped in UTC when the row is inserted."""

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)


class Timestamps(CreatedAt):
    updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), onupdate=utcnow)
