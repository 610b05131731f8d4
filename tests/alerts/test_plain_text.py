"""Vendor text stays plain text in every alert channel (issue #17): a real e-mail through a local
SMTP server, and a Slack webhook body through a local HTTP server standing in for Slack."""

from __future__ import annotations

import email
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message as MailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from apprise.plugins.slack import NotifySlack

from receiver.alerts.channels import Message, markdown_literal, send
from receiver.alerts.rules import Channel
from tests.servers import free_port

LINK = '<a href="https://evil.example/login">Reset your password</a>'
IMAGE = '<img src="https://evil.example/pixel.gif">'
SCRIPT = "<script>alert(1)</script>"
MARKDOWN_LINK = "[Reset your password](https://evil.example/login)"
SLACK_LINK = "<https://evil.example/login|Reset your password>"
HOSTILE = (LINK, IMAGE, SCRIPT, MARKDOWN_LINK, SLACK_LINK)


def hostile_message() -> Message:
    now = datetime(2026, 12, 6, 9, 12, tzinfo=UTC)
    return Message(
        notification_id=7,
        kind="firing",
        fingerprint="f" * 64,
        rule="everything",
        labels={
            "vendor": "zencoder",
            "category": "upload",
            "code": f"Code{SCRIPT}",
            "label": f"web {IMAGE}",
            "job": f"job {MARKDOWN_LINK}",
        },
        failure_count=2,
        job_count=1,
        first_occurred_at=now,
        last_occurred_at=now,
        reopened_count=0,
        severity="error",
        action="Check the destination bucket's permissions.",
        admin_url="http://127.0.0.1:8000/admin/groups/1",
        examples=[f"job 1 output 'web': Code {LINK}", f"job 2: Code {SLACK_LINK}"],
    )


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[MailMessage] = []
        self.received = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        self.messages.append(email.message_from_bytes(envelope.content))
        self.received.set()
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()


@pytest.fixture
def slack(monkeypatch) -> Iterator[list[dict]]:
    """An HTTP server where Apprise's Slack plugin posts (its webhook host, moved here)."""
    bodies: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(
        NotifySlack, "webhook_url", f"http://127.0.0.1:{server.server_address[1]}/services"
    )
    try:
        yield bodies
    finally:
        server.shutdown()
        server.server_close()


def parts(mail: MailMessage) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in mail.walk()
        if not part.is_multipart()
    }


def test_alert_email_shows_vendor_markup_as_text(smtp):
    port, mailbox = smtp
    url = f"mailto://127.0.0.1:{port}?from=alerts@example.com&to=ops@example.com&mode=insecure"
    outcome = send(Channel("mail", "apprise", urls=(url,)), hostile_message())
    assert outcome.error is None and mailbox.received.wait(10)
    [mail] = mailbox.messages
    body = parts(mail)
    html = body["text/html"]
    for markup in (LINK, IMAGE, SCRIPT):
        assert markup not in html  # no tag reaches the HTML part ...
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # ... it is shown as text
    assert "&lt;a&nbsp;href=&quot;https://evil.example/login&quot;&gt;" in html
    assert "<a " not in html and "<img" not in html and "<script" not in html
    assert SCRIPT in body["text/plain"]  # the text part says exactly what the vendor sent


def test_slack_message_shows_vendor_links_as_text(slack):
    url = "https://hooks.slack.com/services/T1234ABCD/B1234ABCD/abcdefghijklmnopqrstuvwx"
    outcome = send(Channel("slack", "apprise", urls=(url,)), hostile_message())
    assert outcome.error is None
    [payload] = slack
    text = payload["attachments"][0]["text"]
    # Slack renders <url|text> as a link showing only the text: no vendor URL may hide behind
    # words. (A bare URL is a link to itself in Slack whatever anyone does, shown as it is.)
    assert re.search(r"<https?://[^>]*\|", text) is None
    assert "|Reset your password" not in text
    assert re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", text) is None  # no Markdown link either
    assert "<img" not in text and "<script" not in text and "<a " not in text
    # Our own link to the admin still works.
    assert "http://127.0.0.1:8000/admin/groups/1" in text


def test_markdown_literal_escapes_what_makes_links_images_and_tags():
    assert markdown_literal(MARKDOWN_LINK) == r"\[Reset your password\](https://evil.example/login)"
    assert markdown_literal("![x](y) <b>*_~`#") == r"\!\[x\](y) \<b\>\*\_\~\`\#"
    assert "|" not in markdown_literal(SLACK_LINK)
