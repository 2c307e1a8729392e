"""Webhooks: a JSON POST with httpx, signed with HMAC-SHA256.

The signature follows the Standard Webhooks scheme, which receivers can check
with its libraries or a few lines of code (docs/outbox.md):

    Webhook-Id:        the message's idempotency key (the same on every retry)
    Webhook-Timestamp: seconds since the epoch when this attempt was made
    Webhook-Signature: v1,<base64 of HMAC-SHA256(key, "<id>.<timestamp>.<body>")>

The key is the webhook_secret setting's UTF-8 bytes, or, for a secret written
`whsec_<base64>`, the bytes that base64 stands for.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cs_cli import __version__
from cs_cli.channels import Envelope, Outcome, one_line
from cs_cli.channels.targets import Resolver, Unresolved, resolve, system_resolver
from cs_cli.domain.outbound import AllowList, Refused, mask_urls, where

# The detail of a failed delivery (refused, timed out, reset, the answer's
# status) is only logged: on the outbox row, where every CSM can read it, it
# would tell an open port from a closed one (`cs --debug` shows the log).
log = logging.getLogger("cs_cli.outbound")

SIGNATURE_VERSION = "v1"
# Answers worth trying again: the receiver is overloaded, slow or down.
RETRY_STATUSES = frozenset({408, 425, 429})
# Headers the channel sets itself; a payload cannot override them.
RESERVED_HEADERS = frozenset(
    {"webhook-id", "webhook-timestamp", "webhook-signature", "content-type", "content-length", "host"}
)


def signing_key(secret: str) -> bytes:
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_") :], validate=True)
        except (binascii.Error, ValueError):
            pass
    return secret.encode("utf-8")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Webhook-Signature header value for one attempt."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(mac).decode('ascii')}"


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float, tolerance: float = 300
) -> bool:
    """What a receiver does: the signature matches the body, id and timestamp,
    and the timestamp is within `tolerance` seconds of `now` (no replays)."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        message_id = lower["webhook-id"]
        timestamp = int(lower["webhook-timestamp"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, message_id, timestamp, body)
    offered = lower.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)


def encode(body: Any) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class HttpConfig:
    secret: str
    timeout: float
    # Where requests may go (the outbound_allow setting); empty: any public address.
    allow: AllowList = field(default_factory=AllowList)
    resolver: Resolver = system_resolver

    def __repr__(self) -> str:  # never show the secret
        return f"HttpConfig(timeout={self.timeout}, allow={self.allow})"


def could_not_deliver(place: str) -> str:
    """The one reason every failed delivery to a reachable-looking place
    gets: refused, timed out, reset, closed or answered with an error."""
    return f"could not deliver to {place}"


class SignedPoster:
    """POSTs signed JSON with one httpx client (kept-alive connections) for a run."""

    def __init__(self, config: HttpConfig) -> None:
        self.config = config
        # One client per host name: requests go to an address, and a kept-alive
        # TLS connection checked for one name must not carry another's.
        self._clients: dict[str, Any] = {}
        # A delivery run posts from several threads; the clients serve them all.
        self._lock = threading.Lock()

    def __enter__(self) -> SignedPoster:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            clients, self._clients = self._clients, {}
        for client in clients.values():
            client.close()

    def _http(self, host: str):
        with self._lock:
            client = self._clients.get(host)
            if client is None:
                import httpx

                client = self._clients[host] = httpx.Client(
                    timeout=httpx.Timeout(self.config.timeout),
                    follow_redirects=False,
                    trust_env=False,  # no proxy from the environment: it would connect by name
                    headers={"User-Agent": f"cs/{__version__}"},
                )
            return client

    def post(
        self,
        url: str,
        key: str,
        body: Any,
        at: dt.datetime,
        headers: Mapping[str, Any] | None = None,
        timeout: float | None = None,
        refused: Callable[[str], Outcome] = Outcome.dead,
    ) -> Outcome:
        """POST `body` signed; `timeout` (seconds) overrides the configured one.
        The URL is checked against the allow-list after resolving its host,
        and the request goes to the address checked. `refused` makes the
        outcome of a destination the allow-list refuses (dead by default)."""
        import httpx

        if not self.config.secret:
            return Outcome.held("no signing key: set webhook_secret (CS_WEBHOOK_SECRET)")
        try:
            target = resolve(url, self.config.allow, self.config.resolver)
        except Refused as exc:
            return refused(f"destination refused: {exc}")
        except Unresolved as exc:
            log.debug("cannot resolve %s: %s", where(url), exc)
            return Outcome.retry(could_not_deliver(where(url)))
        data = encode(body)
        timestamp = int(at.timestamp())
        sent_headers = {
            str(k): str(v) for k, v in (headers or {}).items() if str(k).lower() not in RESERVED_HEADERS
        }
        sent_headers.update(
            {
                "Host": target.host_header(),
                "Content-Type": "application/json",
                "Webhook-Id": key,
                "Webhook-Timestamp": str(timestamp),
                "Webhook-Signature": sign(self.config.secret, key, timestamp, data),
            }
        )
        # TLS checks the certificate against the name, not the address.
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        limit = self.config.timeout if timeout is None else float(timeout)
        try:
            response = self._http(target.host).post(
                target.pinned_url(),
                content=data,
                headers=sent_headers,
                timeout=httpx.Timeout(limit),
                extensions=extensions,
            )
        except httpx.TimeoutException:
            log.debug("%s: no answer within %g s", target.where, limit)
            return Outcome.retry(could_not_deliver(target.where))
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            return Outcome.dead(f"bad URL for {target.where}: {mask_urls(one_line(exc))}")
        except httpx.TransportError as exc:
            log.debug("%s: %s", target.where, one_line(exc) or type(exc).__name__)
            return Outcome.retry(could_not_deliver(target.where))
        except (ValueError, UnicodeError) as exc:  # a header no HTTP request can carry
            return Outcome.dead(f"cannot send: {mask_urls(one_line(exc))}")
        outcome = classify(response.status_code, response.reason_phrase, response.text, response.headers, at)
        if outcome.kind in ("sent", "held"):
            return outcome
        log.debug("%s: %s", target.where, outcome.reason)
        return Outcome(outcome.kind, could_not_deliver(target.where), outcome.retry_after)


def classify(status: int, phrase: str, text: str, headers: Mapping[str, str], at: dt.datetime) -> Outcome:
    """2xx sent; 408/425/429 and 5xx retry (after Retry-After when given);
    any other answer (4xx, a redirect) is dead, with the answer as reason."""
    if 200 <= status < 300:
        return Outcome.sent()
    said = f"HTTP {status} {phrase}".strip()
    body = one_line(text, 200)
    reason = f"{said}: {body}" if body else said
    if status in RETRY_STATUSES or status >= 500:
        return Outcome.retry(reason, retry_after=_retry_after(headers.get("retry-after"), at))
    if 300 <= status < 400:
        return Outcome.dead(f"{said}: redirects are not followed (to {headers.get('location', '?')})")
    return Outcome.dead(reason)


def _retry_after(value: str | None, at: dt.datetime) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return None if when is None else max(0.0, (when - at).total_seconds())
    return max(0.0, seconds)


class WebhookChannel(SignedPoster):
    """Webhook messages: payload {"url": ..., "body": <any JSON>, "headers": {...}}."""

    def send(self, envelope: Envelope, at: dt.datetime) -> Outcome:
        payload = envelope.payload
        return self.post(
            payload.get("url") or envelope.recipient,
            envelope.key,
            payload.get("body"),
            at,
            payload.get("headers"),
            payload.get("timeout"),
        )
