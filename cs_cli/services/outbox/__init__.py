"""The outbox: every message that leaves the machine (email, webhook, in-app)
is put here first, in the transaction of the change that caused it
(enqueue), then sent by `cs outbox deliver` (deliver) under the delivery
rules, quiet hours and the email cap (rules); listings and retry by hand
(views)."""
