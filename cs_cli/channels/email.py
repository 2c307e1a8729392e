"""Email over SMTP with the standard library's smtplib: one connection per
sending thread, kept for a whole delivery run, plain/STARTTLS/TLS, optional
login.

The Message-ID header carries the message's idempotency key, so a message sent
twice (at-least-once delivery) is the same message to every mail system that
drops duplicates by Message-ID.

Messages are built with the email package's compat32 classes (MIMEText,
MIMEMultipart) and flattened once: the modern EmailMessage API parses every
header through its policy's header registry, which took as long as the SMTP
conversation itself and halved delivery speed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.charset import BASE64, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr

from cs_cli.channels import Envelope, Outcome, one_line

USUAL_PORTS = {"none": 25, "starttls": 587, "tls": 465}
# Headers the outbox sets itself; a payload cannot override them.
RESERVED_HEADERS = frozenset(
    {"from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "content-type"}
)
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
ADDRESS_HEADERS = frozenset({"from", "to", "cc", "reply-to", "sender"})
# SMTP lines are at most 998 octets; a longer line travels in base64.
MAX_LINE = 998
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = BASE64
# smtplib sends bytes as they are: the lines must already end in CRLF.
_WIRE = compat32.clone(linesep="\r\n")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int  # 0: the usual port of `security`
    security: str  # none | starttls | tls
    user: str
    password: str
    sender: str  # the From address
    timeout: float

    @property
    def effective_port(self) -> int:
        return self.port or USUAL_PORTS[self.security]

    @property
    def where(self) -> str:
        return f"{self.host}:{self.effective_port}"

    def __repr__(self) -> str:  # never show the password
        return f"SmtpConfig({self.where}, {self.security}, user={self.user!r}, sender={self.sender!r})"


def message_id(key: str, sender: str) -> str:
    """The Message-ID of the message with this idempotency key: the key
    itself where it is a valid left part, else a digest of it."""
    domain = sender.rsplit("@", 1)[-1].strip(" >") if "@" in sender else "cs.invalid"
    left = key if _DOT_ATOM.fullmatch(key) and len(key) <= 200 else "h." + _digest(key)
    return f"<{left}@{domain or 'cs.invalid'}>"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]


def build_message(envelope: Envelope, sender: str, at: dt.datetime) -> bytes:
    """The message as it goes on the wire: a text part, an HTML alternative
    when given, headers. Raises ValueError for what no mail system could take
    (a header with a line break)."""
    payload = envelope.payload
    text = _body("plain", payload.get("text") or "")
    if payload.get("html"):
        msg: MIMEMultipart | MIMENonMultipart = MIMEMultipart("alternative", _subparts=[text])
        msg.attach(_body("html", payload["html"]))
    else:
        msg = text
    headers = [
        ("From", payload.get("from") or sender),
        ("To", envelope.recipient),
        ("Subject", envelope.subject or ""),
        ("Date", format_datetime(at.astimezone(dt.UTC))),
        ("Message-ID", message_id(envelope.key, sender)),
    ]
    headers += [
        (str(name), str(value))
        for name, value in (payload.get("headers") or {}).items()
        if str(name).lower() not in RESERVED_HEADERS
    ]
    for name, value in headers:
        msg[name] = _header(name, value)
    return msg.as_bytes(policy=_WIRE)


def _body(subtype: str, content: str) -> MIMENonMultipart:
    """One text part: 7bit when it is plain ASCII in short lines, else UTF-8 in base64."""
    part = MIMENonMultipart("text", subtype)
    if content.isascii() and all(len(line) <= MAX_LINE for line in content.splitlines()):
        part.set_payload(content, "us-ascii")
    else:
        part.set_payload(content, _UTF8)
    return part


def _header(name: str, value: str) -> str | Header:
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name!r} contains a line break")
    if value.isascii():
        return value
    if name.lower() in ADDRESS_HEADERS:
        # Only the display name is encoded; the address stays as it is.
        display, address = parseaddr(value)
        if address and address.isascii():
            return formataddr((display, address), charset="utf-8")
    return Header(value, "utf-8", header_name=name)


class SmtpChannel:
    """Sends email through SMTP connections opened at a thread's first
    message and kept until the run ends (a delivery run sends from several
    threads, one connection each). When the server cannot be reached, every
    email of the run after it is a retry at once, with the same reason (one
    timeout per run, not one per message)."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._local = threading.local()
        self._open: set[smtplib.SMTP] = set()
        self._lock = threading.Lock()
        self._down: str | None = None

    def __enter__(self) -> SmtpChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            connections, self._open = self._open, set()
        for smtp in connections:
            _close(smtp, polite=True)

    def send(self, envelope: Envelope, at: dt.datetime) -> Outcome:
        if not self.config.sender:
            return Outcome.held("no From address: set smtp_from (CS_SMTP_FROM)")
        if self._down:
            return Outcome.retry(self._down)
        try:
            msg = build_message(envelope, self.config.sender, at)
        except (ValueError, TypeError) as exc:
            return Outcome.dead(f"cannot build the email: {one_line(exc)}")
        smtp = self._connection()
        if smtp is None:
            return Outcome.retry(self._down or "SMTP server unavailable")
        try:
            options = () if envelope.recipient.isascii() and self.config.sender.isascii() else ("SMTPUTF8",)
            smtp.sendmail(self.config.sender, [envelope.recipient], msg, mail_options=options)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (0, b""))
            return _by_code(code, f"recipient refused: {code} {_text(text)}")
        except smtplib.SMTPSenderRefused as exc:
            return _by_code(exc.smtp_code, f"sender refused: {exc.smtp_code} {_text(exc.smtp_error)}")
        except smtplib.SMTPDataError as exc:
            return _by_code(exc.smtp_code, f"message refused: {exc.smtp_code} {_text(exc.smtp_error)}")
        except smtplib.SMTPResponseException as exc:
            self._drop()
            return _by_code(exc.smtp_code, f"SMTP error: {exc.smtp_code} {_text(exc.smtp_error)}")
        except (smtplib.SMTPException, OSError) as exc:
            # Lost or timed out mid-message: reconnect for the next one. The
            # server may have taken this one; a retry is the same Message-ID.
            self._drop()
            return Outcome.retry(f"SMTP connection to {self.config.where} lost: {_why(exc)}")
        return Outcome.sent()

    def _connection(self) -> smtplib.SMTP | None:
        smtp: smtplib.SMTP | None = getattr(self._local, "smtp", None)
        if smtp is not None:
            return smtp
        c = self.config
        try:
            if c.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    c.host, c.effective_port, timeout=c.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(c.host, c.effective_port, timeout=c.timeout)
            try:
                if c.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if c.user:
                    smtp.login(c.user, c.password)
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPAuthenticationError as exc:
            self._down = (
                f"SMTP login to {c.where} as {c.user} refused: {exc.smtp_code} {_text(exc.smtp_error)}"
            )
            return None
        except smtplib.SMTPNotSupportedError as exc:
            self._down = f"SMTP server {c.where}: {one_line(exc)} (check smtp_security)"
            return None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            self._down = f"cannot connect to SMTP server {c.where}: {_why(exc)}"
            return None
        self._local.smtp = smtp
        with self._lock:
            self._open.add(smtp)
        return smtp

    def _drop(self) -> None:
        """Close this thread's connection (it failed); the next message opens another."""
        smtp, self._local.smtp = getattr(self._local, "smtp", None), None
        if smtp is None:
            return
        with self._lock:
            self._open.discard(smtp)
        _close(smtp, polite=False)


def _close(smtp: smtplib.SMTP, *, polite: bool) -> None:
    try:
        if polite:
            smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def _by_code(code: int, reason: str) -> Outcome:
    """5xx is permanent (dead), anything else passing (retry)."""
    return Outcome.dead(reason) if 500 <= code < 600 else Outcome.retry(reason)


def _text(raw: bytes | str) -> str:
    return one_line(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)


def _why(exc: BaseException) -> str:
    # smtplib reports a timeout while reading as a lost connection.
    if isinstance(exc, TimeoutError) or str(exc).endswith("timed out"):
        return "timed out"
    return one_line(exc) or type(exc).__name__
