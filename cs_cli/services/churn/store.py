"""Stored models: saving a trained one, listing, activating, loading.

A model is kept as a skops file in the database, never a pickle: loading
reads only the object types listed in TRUSTED (scikit-learn's own, which
skops trusts, and the few below that our two candidates need); a file
asking for any other type is refused before anything in it is built.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import metadata

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db.migrate import SCHEMA_REVISION
from cs_cli.db.models import PredictionModel, ScorecardVersion
from cs_cli.domain import Actor, ChurnModelInfo, ChurnReport, NpsReport
from cs_cli.errors import BadInput, NotFound
from cs_cli.services.audit import audit
from cs_cli.services.churn.features import FeatureSet
from cs_cli.services.churn.train import Trained, report_from_json, report_json
from cs_cli.services.health.recalc import remember_scorecard
from cs_cli.specs.scorecard import LoadedScorecard, scorecard_from_text

# Beyond what skops trusts by default: what a fitted logistic pipeline or
# histogram gradient boosting holds.
TRUSTED = (
    "numpy.dtype",
    "functools.partial",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
)
LIBRARIES = ("cs", "scikit-learn", "numpy", "scipy", "skops")


@dataclass(frozen=True)
class Loaded:
    """A stored model ready to predict."""

    id: int
    model: object
    features: FeatureSet
    calibration: tuple[float, float]
    reference: dict
    report: ChurnReport | NpsReport
    horizon_days: int
    target: str
    # The scorecard its health features were computed with (None: none).
    scorecard: LoadedScorecard | None


def save(
    session: Session,
    actor: Actor,
    trained: Trained,
    *,
    scorecard: LoadedScorecard | None,
    now: dt.datetime,
    activate: bool | None = None,
) -> int:
    """Store a trained model (and the scorecard its health features came
    from, which predictions then use); it becomes the active one when
    `activate`, or when None and no model is active yet. Returns its id."""
    import skops.io

    uses_health = scorecard is not None and "health_score" in trained.features.numeric
    if uses_health:
        remember_scorecard(session, scorecard, now)

    content = skops.io.dumps(trained.model)
    report = trained.report
    row = PredictionModel(
        target=report.target,
        algorithm=trained.algorithm,
        active=False,
        horizon_days=report.horizon_days,
        every_days=report.every_days,
        trained_from=trained.days[0],
        trained_to=trained.days[-1],
        observations=report.observations,
        positives=report.churned if isinstance(report, ChurnReport) else report.observations,
        schema_revision=SCHEMA_REVISION,
        scorecard_version=scorecard.version if uses_health else None,
        features={
            **trained.features.to_json(),
            "calibration": list(trained.calibration),
            "reference": trained.reference,
        },
        metrics=report_json(report),
        versions=_versions(),
        content=content,
        created_by=actor.name,
        created_at=now,
    )
    session.add(row)
    session.flush()
    if activate or (activate is None and active_id(session, report.target) is None):
        _activate(session, row.id, report.target)
    audit(
        session,
        actor,
        f"{report.target}.train",
        "prediction_model",
        row.id,
        at=now,
        details={"algorithm": trained.algorithm},
    )
    return row.id


def _versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name if name != "cs" else "cs-cli")
        except metadata.PackageNotFoundError:
            found[name] = "unknown"
    return found


def active_id(session: Session, target: str = "churn") -> int | None:
    m = PredictionModel
    return session.scalar(sa.select(m.id).where(m.target == target, m.active))


def _row(session: Session, model_id: int | None, target: str) -> PredictionModel | None:
    """The stored `target` model `model_id` (None: not found or another
    target's)."""
    row = session.get(PredictionModel, model_id) if model_id else None
    return row if row is not None and row.target == target else None


def activate(
    session: Session, actor: Actor, model_id: int, *, now: dt.datetime, target: str = "churn"
) -> None:
    """Make `model_id` the `target` model predictions use."""
    if _row(session, model_id, target) is None:
        raise NotFound(f"no {target} model {model_id} (see cs {target} models)")
    _activate(session, model_id, target)
    audit(session, actor, f"{target}.activate", "prediction_model", model_id, at=now)


def _activate(session: Session, model_id: int, target: str) -> None:
    m = PredictionModel
    session.execute(sa.update(m).where(m.target == target, m.active).values(active=False))
    session.flush()
    session.execute(sa.update(m).where(m.id == model_id).values(active=True))


def models(session: Session, target: str = "churn") -> list[ChurnModelInfo]:
    """Every stored `target` model, newest first."""
    m = PredictionModel
    rows = session.execute(
        sa.select(
            m.id,
            m.target,
            m.algorithm,
            m.active,
            m.created_at,
            m.created_by,
            m.horizon_days,
            m.trained_from,
            m.trained_to,
            m.observations,
            m.positives,
            m.metrics,
        )
        .where(m.target == target)
        .order_by(m.id.desc())
    ).all()
    return [
        ChurnModelInfo(
            id=r.id,
            target=r.target,
            algorithm=r.algorithm,
            active=r.active,
            created_at=r.created_at,
            created_by=r.created_by,
            horizon_days=r.horizon_days,
            trained_from=r.trained_from,
            trained_to=r.trained_to,
            observations=r.observations,
            positives=r.positives,
            auc=(r.metrics.get("model") or {}).get("auc"),
            mae=(r.metrics.get("model") or {}).get("mae"),
            method=r.metrics.get("method", ""),
        )
        for r in rows
    ]


def report(
    session: Session, model_id: int | None, target: str = "churn"
) -> tuple[int, ChurnReport | NpsReport]:
    """A stored model's validation report (the active model's when None)."""
    model_id = model_id or active_id(session, target)
    row = _row(session, model_id, target)
    if row is None:
        raise NotFound(
            f"no active {target} model: train one with cs {target} train"
            if model_id is None
            else f"no {target} model {model_id} (see cs {target} models)"
        )
    return row.id, report_from_json(row.metrics)


def load(session: Session, model_id: int | None = None, target: str = "churn") -> Loaded:
    """The active `target` model (or `model_id`), checked and ready.
    NotFound when there is none; BadInput when it was made for another
    schema or its file asks for types that are not trusted."""
    import skops.io

    model_id = model_id or active_id(session, target)
    row = _row(session, model_id, target)
    if row is None:
        raise NotFound(
            f"no active {target} model: train one with cs {target} train (then cs {target} activate ID)"
        )
    if row.schema_revision != SCHEMA_REVISION:
        raise BadInput(
            f"{target} model {row.id} was trained on schema {row.schema_revision}, this database is at "
            f"{SCHEMA_REVISION}: train a new one with cs {target} train"
        )
    untrusted = [t for t in skops.io.get_untrusted_types(data=row.content) if t not in TRUSTED]
    if untrusted:
        raise BadInput(f"{target} model {row.id} holds types cs does not load: {', '.join(untrusted)}")
    model = skops.io.loads(row.content, trusted=list(TRUSTED))
    data = dict(row.features)
    calibration = tuple(data.pop("calibration"))
    reference = data.pop("reference")
    return Loaded(
        row.id,
        model,
        FeatureSet.from_json(data),
        (float(calibration[0]), float(calibration[1])),
        reference,
        report_from_json(row.metrics),
        row.horizon_days,
        row.target,
        _scorecard(session, row.scorecard_version),
    )


def _scorecard(session: Session, version: str | None) -> LoadedScorecard | None:
    if version is None:
        return None
    text = session.scalar(sa.select(ScorecardVersion.content).where(ScorecardVersion.version == version))
    if text is None:
        return None
    return LoadedScorecard(card=scorecard_from_text(text), version=version, path="(stored)", text=text)
