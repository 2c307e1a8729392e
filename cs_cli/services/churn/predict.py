"""`cs churn predict` (and the churn-predict job): every active customer's
churn probability as of a day from the active model, written into its
current health score and that day's history row; `cs churn explain`: the
drivers behind one customer's probability. `cs expansion` and `cs nps` do
the same for the expansion probability and the predicted NPS (current
health score only: history keeps churn alone).

Drivers are measured the same way for either kind of model: each group of
features that move together (usage, health, support, NPS, relationship,
billing, renewal, tenure, size; each attribute alone) gets its Shapley value,
the change in probability it makes averaged over every order of switching
the groups from a usual customer's values (the training medians, or the
commonest category) to this customer's. The values add up to the
customer's probability minus the usual customer's.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cs_cli.db import dialect
from cs_cli.db.models import Customer, HealthScore, HealthScoreHistory
from cs_cli.domain import Actor, ChurnDriver, ChurnExplanation, PredictResult
from cs_cli.errors import NotFound
from cs_cli.services.access import customer_scope
from cs_cli.services.churn import features as feats
from cs_cli.services.churn import learn, targets
from cs_cli.services.churn.labels import with_arr
from cs_cli.services.churn.store import Loaded, load
from cs_cli.services.churn.train import features_of

# A probability at least this high counts as high risk in the summary.
HIGH_RISK = 0.5
EXACT_GROUPS = 12
SAMPLED_ORDERS = 512


# A predicted NPS at or below this is a detractor's (counted in the summary).
DETRACTOR = 6


def _frame(
    session: Session,
    actor: Actor,
    loaded: Loaded,
    as_of: dt.date,
    customers: list[int] | None = None,
) -> feats.Frame:
    if not loaded.features.history:
        # As the book stands: churned customers are not predicted.
        _, frame = features_of(
            session, actor, None, days=[as_of], history=False, features=loaded.features, customers=customers
        )
        return feats.take(frame, frame.churned == 0)
    _, frame = features_of(
        session,
        actor,
        loaded.scorecard,
        days=[as_of],
        history=True,
        features=loaded.features,
        customers=customers,
    )
    if loaded.target == targets.EXPANSION.name:
        frame = feats.take(frame, np.isin(frame.customer, list(with_arr(session, as_of))))
    return frame


def _predicted(loaded: Loaded, x: np.ndarray) -> np.ndarray:
    """Calibrated probabilities, or scores 0-10 (NPS)."""
    raw = learn.risk(loaded.model, x)
    if loaded.target == targets.NPS.name:
        return np.clip(raw, 0, 10)
    return learn.calibrate(raw, *loaded.calibration)


def probabilities(loaded: Loaded, frame: feats.Frame) -> np.ndarray:
    return _predicted(loaded, feats.encode(loaded.features, frame))


def predict(
    session: Session,
    actor: Actor,
    *,
    as_of: dt.date,
    now: dt.datetime,
    target: str = "churn",
    progress: Callable[[int], None] | None = None,
) -> PredictResult:
    """Predict every active customer the actor may see as of `as_of` with
    the active `target` model and write the prediction into the current
    health scores (when they are as of that day or earlier) and, for churn,
    into the history rows of that day. NotFound when no model is active."""
    loaded = load(session, target=target)
    column = targets.TARGETS[target].column
    frame = _frame(session, actor, loaded, as_of)
    p = probabilities(loaded, frame) if len(frame) else np.zeros(0)
    if target == targets.NPS.name:
        p = np.rint(p)
    rows = [(int(c), float(v)) for c, v in zip(frame.customer.tolist(), p.tolist(), strict=True)]
    scratch = dialect.scratch_table(
        session,
        "cs_predicted",
        [sa.Column("customer_id", sa.Integer, primary_key=True), sa.Column("p", sa.Float)],
        rows,
    )
    h, hh = HealthScore.__table__, HealthScoreHistory.__table__
    value = sa.cast(scratch.c.p, sa.Integer) if target == targets.NPS.name else scratch.c.p
    current = session.execute(
        sa.update(h)
        .where(
            h.c.customer_id == scratch.c.customer_id,
            sa.or_(h.c.as_of.is_(None), h.c.as_of <= as_of),
        )
        .values({column: value})
    ).rowcount
    newer = session.scalar(
        sa.select(sa.func.count())
        .select_from(scratch.join(h, h.c.customer_id == scratch.c.customer_id))
        .where(h.c.as_of > as_of)
    )
    history = 0
    if target == targets.CHURN.name:
        history = session.execute(
            sa.update(hh)
            .where(hh.c.customer_id == scratch.c.customer_id, hh.c.as_of == as_of)
            .values(churn_probability=scratch.c.p)
        ).rowcount
    scratch.drop(session.connection())
    if progress:
        progress(len(rows))
    return PredictResult(
        model_id=loaded.id,
        as_of=as_of,
        predicted=len(rows),
        written=current,
        unscored=len(rows) - current - newer,
        mean=float(p.mean()) if len(p) else None,
        high_risk=int((p <= DETRACTOR).sum() if target == targets.NPS.name else (p >= HIGH_RISK).sum()),
        target=target,
        newer=newer,
        history=history,
    )


def explain(
    session: Session,
    actor: Actor,
    customer: str,
    *,
    as_of: dt.date,
    target: str = "churn",
) -> ChurnExplanation:
    """One customer's churn probability (or expansion probability, or
    predicted NPS) as of `as_of` and the features that move it most against
    their usual values."""
    loaded = load(session, target=target)
    found = session.execute(
        sa.select(Customer.id, Customer.external_id, Customer.name).where(
            customer_scope(actor), sa.or_(Customer.external_id == customer, _id_is(customer))
        )
    ).first()
    if found is None:
        raise NotFound(f"no customer {customer!r}")
    from cs_cli.services.audit import record_read

    record_read(
        session, actor, f"{loaded.target}_explanation", customer_id=found.id, details={"as_of": as_of}
    )
    frame = _frame(session, actor, loaded, as_of, customers=[found.id])
    if not len(frame):
        with_arr = " with ARR" if target == targets.EXPANSION.name else ""
        raise NotFound(f"customer {found.external_id} is not an active customer{with_arr} on {as_of}")
    features = loaded.features
    names = features.names
    groups: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        groups.setdefault(feats.group_of(name), []).append(j)
    usual = _copy(frame)
    for j, name in enumerate(names):
        value = loaded.reference.get(name)
        if j < len(features.numeric):
            usual.numeric[0, j] = math.nan if value is None else float(value)
        else:
            usual.categorical[j - len(features.numeric)][0] = value
    mine, theirs = feats.encode(features, frame)[0], feats.encode(features, usual)[0]
    base = float(probabilities(loaded, frame)[0])
    effects = _shapley(loaded, mine, theirs, list(groups.values()))
    drivers = []
    for (group, members), effect in zip(groups.items(), effects, strict=True):
        words, lead = feats.GROUPS.get(group, (features.describe(group), group))
        shown = lead if lead in names else names[members[0]]
        j = names.index(shown)
        drivers.append(
            ChurnDriver(
                feature=group,
                words=words,
                value=_shown(_value(frame, features, j)),
                usual=_shown(loaded.reference.get(shown)),
                effect=float(effect),
            )
        )
    drivers.sort(key=lambda d: -abs(d.effect))
    return ChurnExplanation(
        customer_id=found.id,
        external_id=found.external_id,
        name=found.name,
        as_of=as_of,
        probability=base,
        usual=float(probabilities(loaded, usual)[0]),
        base_rate=getattr(loaded.report, "base_rate", None),
        model_id=loaded.id,
        drivers=drivers,
        target=target,
    )


def _shapley(loaded: Loaded, mine: np.ndarray, usual: np.ndarray, groups: list[list[int]]) -> np.ndarray:
    """Each group's share of p(customer) - p(usual customer): its Shapley
    value, the change it makes averaged over every order of switching the
    groups from the usual values to the customer's (exact over all subsets
    up to EXACT_GROUPS groups, else over SAMPLED_ORDERS random orders). The
    shares add up to the whole difference, so an effect that needs two
    groups together is split between them, not counted twice."""
    count = len(groups)
    columns = np.zeros((count, len(mine)), dtype=bool)
    for g, members in enumerate(groups):
        columns[g, members] = True

    def predict(masks: np.ndarray) -> np.ndarray:
        take = masks.astype(float) @ columns.astype(float) > 0
        return _predicted(loaded, np.where(take, mine, usual))

    if count <= EXACT_GROUPS:
        subsets = np.arange(2**count)
        masks = (subsets[:, None] >> np.arange(count)) & 1
        p = predict(masks)
        sizes = masks.sum(axis=1)
        weight = np.array(
            [math.factorial(k) * math.factorial(count - k - 1) / math.factorial(count) for k in range(count)]
        )
        effects = np.zeros(count)
        for g in range(count):
            without = subsets[masks[:, g] == 0]
            effects[g] = float((weight[sizes[without]] * (p[without | (1 << g)] - p[without])).sum())
        return effects
    rng = np.random.default_rng(learn.SEED)
    orders = np.array([rng.permutation(count) for _ in range(SAMPLED_ORDERS)])
    masks = np.zeros((SAMPLED_ORDERS, count + 1, count), dtype=np.int64)
    for k in range(1, count + 1):
        masks[:, k] = masks[:, k - 1]
        masks[np.arange(SAMPLED_ORDERS), k, orders[:, k - 1]] = 1
    p = predict(masks.reshape(-1, count)).reshape(SAMPLED_ORDERS, count + 1)
    steps = np.diff(p, axis=1)
    effects = np.zeros(count)
    np.add.at(effects, orders.ravel(), steps.ravel())
    return effects / SAMPLED_ORDERS


def _id_is(customer: str) -> sa.ColumnElement[bool]:
    return Customer.id == int(customer) if customer.isdigit() else sa.false()


def _copy(frame: feats.Frame) -> feats.Frame:
    return feats.Frame(
        frame.customer.copy(),
        frame.day.copy(),
        frame.numeric.copy(),
        [list(column) for column in frame.categorical],
        frame.churned.copy(),
    )


def _value(frame: feats.Frame, features: feats.FeatureSet, j: int):
    if j < len(features.numeric):
        value = frame.numeric[0, j]
        return None if math.isnan(value) else float(value)
    return frame.categorical[j - len(features.numeric)][0]


def _shown(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:.2f}"
    return str(value)
