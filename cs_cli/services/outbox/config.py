"""The outbox's channels, rules and retry policy, made from the settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from cs_cli.channels import Channel
from cs_cli.domain import DeliveryReport, OutboxChannel
from cs_cli.services.outbox.rules import DeliveryRules, RetryPolicy
from cs_cli.settings import Settings, parse_quiet_hours


def delivery_rules(settings: Settings) -> DeliveryRules:
    return DeliveryRules(
        quiet_hours=parse_quiet_hours(settings.quiet_hours),
        default_timezone=settings.default_timezone,
        email_cap=settings.email_cap,
        email_cap_period=settings.email_cap_period,
    )


def retry_policy(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.outbox_max_attempts,
        base=settings.outbox_backoff,
        cap=max(settings.outbox_backoff_cap, settings.outbox_backoff),
    )


@contextmanager
def open_channels(settings: Settings) -> Iterator[dict[OutboxChannel, Channel]]:
    """The three channels, configured, open for one delivery run and closed
    after it (the SMTP connection, the HTTP connections)."""
    from cs_cli.channels.email import SmtpChannel, SmtpConfig
    from cs_cli.channels.in_app import InAppChannel
    from cs_cli.channels.webhook import HttpConfig, WebhookChannel
    from cs_cli.domain.outbound import parse_allow_list

    smtp = SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        security=settings.smtp_security,
        user=settings.smtp_user,
        password=settings.smtp_password_value() if settings.smtp_user else "",
        sender=settings.smtp_from,
        timeout=settings.smtp_timeout,
    )
    http = HttpConfig(
        secret=settings.webhook_secret,
        timeout=settings.webhook_timeout,
        allow=parse_allow_list(settings.outbound_allow),
    )
    with ExitStack() as stack:
        yield {
            OutboxChannel.EMAIL: stack.enter_context(SmtpChannel(smtp)),
            OutboxChannel.WEBHOOK: stack.enter_context(WebhookChannel(http)),
            OutboxChannel.IN_APP: stack.enter_context(InAppChannel(http, settings.in_app_url)),
        }


def deliver_configured(
    engine,
    settings: Settings,
    *,
    now: dt.datetime,
    clock: Callable[[], dt.datetime] | None,
    limit: int | None = None,
    batch: int = 100,
) -> DeliveryReport:
    """Deliver what is due at `now` through the channels, rules and retry
    policy the settings configure (`cs outbox deliver`, the tick, the job)."""
    from cs_cli.services.outbox.deliver import deliver

    with open_channels(settings) as channels:
        return deliver(
            engine,
            channels,
            rules=delivery_rules(settings),
            policy=retry_policy(settings),
            now=now,
            clock=clock,
            limit=limit,
            batch=batch,
            connections=settings.outbox_connections,
        )
