"""In-app messages: a signed JSON POST (the webhook scheme) to the one
endpoint configured as in_app_url, which shows the message in your product."""

from __future__ import annotations

import datetime as dt

from cs_cli.channels import Envelope, Outcome
from cs_cli.channels.webhook import HttpConfig, SignedPoster


class InAppChannel(SignedPoster):
    """Posts {"id", "recipient", "subject", "customer_id", "contact_id",
    "message"} where "message" is the outbox payload as it was enqueued."""

    def __init__(self, config: HttpConfig, url: str) -> None:
        super().__init__(config)
        self.url = url

    def send(self, envelope: Envelope, at: dt.datetime) -> Outcome:
        if not self.url:
            return Outcome.held("no in-app endpoint: set in_app_url (CS_IN_APP_URL)")
        body = {
            "id": envelope.key,
            "recipient": envelope.recipient,
            "subject": envelope.subject,
            "customer_id": envelope.customer_id,
            "contact_id": envelope.contact_id,
            "message": envelope.payload,
        }
        # The endpoint is a setting: one the allow-list refuses holds the
        # messages (like a missing one) until the setting is put right.
        return self.post(self.url, envelope.key, body, at, refused=_held)


def _held(reason: str) -> Outcome:
    return Outcome.held(f"in_app_url: {reason}")
