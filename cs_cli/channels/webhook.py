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
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cs_cli import __version__
from cs_cli.channels import Envelope, Outcome, one_line

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

    def __repr__(self) -> str:  # never show the secret
        return f"HttpConfig(timeout={self.timeout})"


class SignedPoster:
    """POSTs signed JSON with one httpx client (kept-alive connections) for a run."""

    def __init__(self, config: HttpConfig) -> None:
        self.config = config
        self._client = None
        # A delivery run posts from several threads; one client serves them all.
        self._lock = threading.Lock()

    def __enter__(self) -> SignedPoster:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _http(self):
        with self._lock:
            if self._client is None:
                import httpx

                self._client = httpx.Client(
                    timeout=httpx.Timeout(self.config.timeout),
                    follow_redirects=False,
                    headers={"User-Agent": f"cs/{__version__}"},
                )
            return self._client

    def post(
        self,
        url: str,
        key: str,
        body: Any,
        at: dt.datetime,
        headers: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Outcome:
        """POST `body` signed; `timeout` (seconds) overrides the configured one."""
        import httpx

        if not self.config.secret:
            return Outcome.held("no signing key: set webhook_secret (CS_WEBHOOK_SECRET)")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return Outcome.dead(f"not an http(s) URL: {one_line(url, 200)}")
        data = encode(body)
        timestamp = int(at.timestamp())
        sent_headers = {
            str(k): str(v) for k, v in (headers or {}).items() if str(k).lower() not in RESERVED_HEADERS
        }
        sent_headers.update(
            {
                "Content-Type": "application/json",
                "Webhook-Id": key,
                "Webhook-Timestamp": str(timestamp),
                "Webhook-Signature": sign(self.config.secret, key, timestamp, data),
            }
        )
        limit = self.config.timeout if timeout is None else float(timeout)
        try:
            response = self._http().post(
                url, content=data, headers=sent_headers, timeout=httpx.Timeout(limit)
            )
        except httpx.TimeoutException:
            return Outcome.retry(f"no answer from {_host(url)} within {limit:g} s")
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            return Outcome.dead(f"bad URL {one_line(url, 200)}: {one_line(exc)}")
        except httpx.TransportError as exc:
            return Outcome.retry(f"cannot reach {_host(url)}: {one_line(exc) or type(exc).__name__}")
        except (ValueError, UnicodeError) as exc:  # a header no HTTP request can carry
            return Outcome.dead(f"cannot send: {one_line(exc)}")
        return classify(response.status_code, response.reason_phrase, response.text, response.headers, at)


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


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url


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
