"""What a model predicts (its target) and how each observation is labelled.

The three targets share the features, the snapshot days and the validation
(train.py, learn.py); only the label differs:

- churn: the customer churned within the horizon after the day (a
  probability, into churn_probability).
- expansion: the customer's ARR rose, at some moment within the horizon, to
  at least (1 + share) times its ARR on the day, as the ARR history (the
  customer's recorded facts) shows; only customers with ARR are observed
  (a probability, into expansion_probability).
- nps: the score of the customer's next NPS response within the horizon,
  0 to 10; only customers who responded are observed (a number, into
  nps_predicted). Its baseline is "the same as the last response".

labels.py labels the observations. This module imports nothing heavy: the
CLI reads it to build its commands.
"""

from __future__ import annotations

from dataclasses import dataclass

PROBABILITY, SCORE = "probability", "score"
# ARR up by at least this share counts as expansion unless told otherwise.
EXPANSION_SHARE = 0.10


@dataclass(frozen=True)
class Target:
    name: str
    kind: str  # PROBABILITY or SCORE
    column: str  # the health score column predictions go into
    # What a positive observation did, for messages ("churned", "expanded").
    happened: str
    # Whether a higher health score should mean more of it (the health
    # score's own ranking is reported beside the model's).
    health_rises_with_it: bool
    # Who is observed, in words, for messages.
    observed: str


CHURN = Target("churn", PROBABILITY, "churn_probability", "churned", False, "active customers")
EXPANSION = Target(
    "expansion", PROBABILITY, "expansion_probability", "expanded", True, "active customers with ARR"
)
NPS = Target("nps", SCORE, "nps_predicted", "responded", True, "active customers who responded")
TARGETS = {t.name: t for t in (CHURN, EXPANSION, NPS)}
