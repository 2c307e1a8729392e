"""Trained prediction models (churn today; expansion and NPS use the same
table), each with what it learned from and how well it did."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cs_cli.db.base import Base, CreatedAt


class PredictionModel(CreatedAt, Base):
    """One trained model. `content` is a skops file (loading it cannot run
    code: types outside an allow-list are refused); `features` the feature
    set it reads, `metrics` its evaluation, `versions` the libraries that
    made it. At most one active model per target."""

    __tablename__ = "cs_prediction_models"
    __table_args__ = (
        sa.Index(
            None, "target", unique=True, sqlite_where=sa.text("active"), postgresql_where=sa.text("active")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(sa.String(20))
    algorithm: Mapped[str] = mapped_column(sa.String(40))
    active: Mapped[bool] = mapped_column(default=False)
    horizon_days: Mapped[int]
    every_days: Mapped[int]
    trained_from: Mapped[dt.date | None]
    trained_to: Mapped[dt.date | None]
    observations: Mapped[int]
    positives: Mapped[int]
    scorecard_version: Mapped[str | None] = mapped_column(sa.String(64))
    schema_revision: Mapped[str] = mapped_column(sa.String(20))
    features: Mapped[dict[str, Any]]
    metrics: Mapped[dict[str, Any]]
    versions: Mapped[dict[str, Any]]
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_by: Mapped[str | None] = mapped_column(sa.String(320))
