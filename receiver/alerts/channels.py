"""What an alert says, and sending it: Apprise for chat/email/webhooks, PagerDuty Events API v2.

PagerDuty is called directly because Apprise cannot set ``dedup_key`` nor resolve: with the
group fingerprint as ``dedup_key`` one group is one incident, triggered while it fires and
resolved with it. Every other channel is an Apprise URL (Slack, mailto://, Teams workflows,
Discord, Telegram, json:// webhooks …), so adding one is configuration, not code.

A message is plain text, and what a vendor sent (job ids, labels, codes, messages) stays plain
text in every channel: Apprise is told the body is text (``body_format=TEXT``), so it escapes it
for HTML channels (e-mail); for Markdown channels (Slack, Teams, Discord …) the vendor's values
are escaped here, because Apprise does not escape text for Markdown.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import apprise
import requests

from receiver.alerts.rules import Channel
from receiver.when import relative

#: Fields shown in a message's title, in this order.
TITLE_FIELDS = ("vendor", "category", "code", "label", "severity", "job")
#: What makes links, images, HTML or emphasis in chat services' Markdown: backslash-escaped in
#: vendor text. Slack's own ``<url|text>`` link survives any escaping (Apprise's Slack plugin
#: turns ``url|text>`` back into a link), so a vendor's ``|`` becomes a broken bar there.
MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>~#!])")


def markdown_literal(text: str) -> str:
    """``text`` as Markdown that shows exactly this text: no link, image, tag or emphasis."""
    return MARKDOWN_SPECIALS.sub(r"\\\1", text).replace("|", "\u00a6")


def _as_is(text: str) -> str:
    return text


@dataclass(frozen=True)
class Message:
    """Everything a channel needs, gathered from the database by the worker."""

    notification_id: int
    kind: str  # firing | repeat | regression | resolved
    fingerprint: str
    rule: str
    labels: dict[str, str]
    failure_count: int
    job_count: int
    #: When the failures happened (the vendor's clock, as the admin shows them).
    first_occurred_at: datetime
    last_occurred_at: datetime
    reopened_count: int
    severity: str
    action: str | None
    admin_url: str
    examples: list[str] = field(default_factory=list)
    #: The soonest deadline of the group's copies on the vendor's backup server still available,
    #: the page that lists them, and when the message was written (for "in 5 h").
    backup_deadline: datetime | None = None
    backups_url: str | None = None
    written_at: datetime | None = None

    @property
    def title(self) -> str:
        return self.render_title(_as_is)

    @property
    def body(self) -> str:
        return self.render_body(_as_is)

    def render_title(self, vendor_text: Callable[[str], str]) -> str:
        """The title, with every vendor-provided value passed through ``vendor_text``."""
        what = " ".join(
            vendor_text(self.labels[name]) for name in TITLE_FIELDS if self.labels.get(name)
        )
        failures = _plural(self.failure_count, "failure")
        jobs = _plural(self.job_count, "job")
        return f"[{self.kind.upper()}] {what or self.rule}: {failures} in {jobs}"

    def render_body(self, vendor_text: Callable[[str], str]) -> str:
        """The body, with every vendor-provided value passed through ``vendor_text``."""
        since = f"{_time(self.first_occurred_at)}, the last at {_time(self.last_occurred_at)}"
        lines = [
            f"{_plural(self.failure_count, 'failure')} in {_plural(self.job_count, 'job')}, "
            f"the first occurred {since}."
        ]
        if self.kind == "resolved":
            lines = [
                f"Resolved: the last failure occurred {_time(self.last_occurred_at)} "
                f"({_plural(self.failure_count, 'failure')} in "
                f"{_plural(self.job_count, 'job')} in all)."
            ]
        if self.kind == "regression":
            lines.append(
                f"Regression: this alert was resolved and is failing again "
                f"(re-opened {_plural(self.reopened_count, 'time')})."
            )
        described = [
            f"{name}: {vendor_text(str(value))}" for name, value in self.labels.items() if value
        ]
        if described:
            lines.append(" · ".join(described))
        if self.backup_deadline and self.kind != "resolved":
            left = relative(self.backup_deadline, self.written_at) if self.written_at else ""
            lines.append(
                f"Backup copy available until {_time(self.backup_deadline)}"
                + (f" ({left})" if left else "")
                + f": copy the files from the backup URLs before then: {self.backups_url}"
            )
        if self.action and self.kind != "resolved":
            lines.append(f"What to do: {self.action}")
        if self.examples and self.kind != "resolved":
            lines.append("Latest:")
            lines += [f"- {vendor_text(example)}" for example in self.examples]
        lines.append(f"Group and its failures: {self.admin_url}")
        lines.append(f"Alert #{self.notification_id} · rule {self.rule} · {self.fingerprint[:12]}")
        return "\n".join(lines)


def admin_url(public_url: str, group_id: int) -> str:
    """The group's page: its failures, catalog entry, backup copies and actions."""
    return f"{public_url}/admin/groups/{group_id}"


@dataclass(frozen=True)
class Delivery:
    """The outcome of one attempt; ``permanent`` errors are not retried."""

    error: str | None = None
    http_status: int | None = None
    permanent: bool = False


def send(channel: Channel, message: Message) -> Delivery:
    try:
        if channel.type == "pagerduty":
            return _send_pagerduty(channel, message)
        return _send_apprise(channel, message)
    except Exception as error:  # a broken channel must not stop the worker
        return Delivery(error=f"{type(error).__name__}: {error}"[:2000])


@functools.lru_cache(maxsize=64)
def _notifiers(
    urls: tuple[str, ...],
) -> tuple[tuple[Callable[[str], str], apprise.Apprise], ...]:
    """The channel's services grouped by the markup they read, each with the escaping its
    vendor text needs. Parsing URLs and loading plugins costs more than a local delivery: done
    once per channel."""
    services = apprise.Apprise()
    for url in urls:
        services.add(url)
    groups: dict[str, apprise.Apprise] = {}
    for service in services:
        groups.setdefault(service.notify_format, apprise.Apprise()).add(service)
    return tuple(
        (markdown_literal if markup == apprise.NotifyFormat.MARKDOWN else _as_is, notifier)
        for markup, notifier in groups.items()
    )


def _send_apprise(channel: Channel, message: Message) -> Delivery:
    notify_type = (
        apprise.NotifyType.SUCCESS if message.kind == "resolved" else (apprise.NotifyType.FAILURE)
    )
    ok = True
    # Apprise reports only True/False; its log lines carry the reason (HTTP status, error).
    with apprise.LogCapture(level=apprise.logging.WARNING) as log:
        for vendor_text, notifier in _notifiers(channel.urls):
            ok = (
                notifier.notify(
                    body=message.render_body(vendor_text),
                    title=message.render_title(vendor_text),
                    notify_type=notify_type,
                    body_format=apprise.NotifyFormat.TEXT,
                )
                is not False
                and ok
            )
    if ok:
        return Delivery()
    return Delivery(error=(log.getvalue().strip() or "Apprise reported a failure")[:2000])


def _send_pagerduty(channel: Channel, message: Message) -> Delivery:
    response = requests.post(
        channel.events_url,
        json=pagerduty_event(channel.routing_key, message),
        timeout=channel.timeout,
    )
    if response.status_code < 300:
        return Delivery(http_status=response.status_code)
    # 400: the event is invalid (e.g. a wrong routing key) and will stay so; 429 and 5xx pass.
    return Delivery(
        error=f"PagerDuty answered {response.status_code}: {response.text[:500]}",
        http_status=response.status_code,
        permanent=400 <= response.status_code < 500 and response.status_code != 429,
    )


def pagerduty_event(routing_key: str, message: Message) -> dict[str, Any]:
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "resolve" if message.kind == "resolved" else "trigger",
        "dedup_key": message.fingerprint,
    }
    if message.kind != "resolved":
        event["payload"] = {
            "summary": message.title[:1024],
            "source": "video-failure-receiver",
            "severity": message.severity if message.severity != "info" else "info",
            "component": message.labels.get("vendor") or None,
            "group": message.labels.get("category") or None,
            "class": message.labels.get("code") or None,
            "custom_details": {
                "failures": message.failure_count,
                "jobs": message.job_count,
                "first_occurred_at": message.first_occurred_at.isoformat(),
                "last_occurred_at": message.last_occurred_at.isoformat(),
                "backup_deadline": message.backup_deadline.isoformat()
                if message.backup_deadline
                else None,
                "action": message.action,
                "labels": message.labels,
                "rule": message.rule,
                "alert": message.notification_id,
                "details": message.body,
            },
        }
        event["links"] = [{"href": message.admin_url, "text": "The group in the receiver admin"}]
    return event


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")
