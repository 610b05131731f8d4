"""Vendor-controlled text is data, never markup: every field a sender controls, on every page."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from receiver.models import Failure
from tests.helpers import fixture_bytes, post

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'><svg onload=alert(3)>"
EVIL_LINK = "javascript:alert(4)"


class Markup(HTMLParser):
    """Collects what a browser would execute: script elements, handlers, script URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.dangers: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed", "img"):
            self.dangers.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.dangers.append(f"{tag} {name}=")
            if (
                tag != "link"
                and name in ("href", "src", "action")
                and (value or "").strip().lower().startswith(("javascript:", "data:"))
            ):
                self.dangers.append(f"{tag} {name}={value}")

    def handle_data(self, data: str) -> None:
        self.text += data


def assert_inert(html: str, *, shown: str = PAYLOAD) -> None:
    parser = Markup()
    parser.feed(html)
    assert parser.dangers == []
    assert shown in parser.text  # rendered, as text


def zencoder_payload() -> bytes:
    data = json.loads(fixture_bytes("zencoder", "output_failed.json"))
    data["job"]["id"] = PAYLOAD
    data["job"]["pass_through"] = PAYLOAD
    data["job"]["state"] = "<script>alert(5)</script>"  # state is at most 64 characters
    data["output"] |= {
        "id": "out" + PAYLOAD,
        "label": PAYLOAD,
        "error_class": "Err" + PAYLOAD[:100],
        "error_message": PAYLOAD,
        "error_link": EVIL_LINK,
        "url": PAYLOAD,
        "backup_server_used": True,
        "primary_upload_error_message": PAYLOAD,
        "primary_upload_error_link": EVIL_LINK,
    }
    return json.dumps(data).encode()


def lightflow_payload() -> bytes:
    data = json.loads(fixture_bytes("lightflow", "asset_error_2404.json"))
    data |= {"uuid": PAYLOAD, "assetName": PAYLOAD, "inputUrl": EVIL_LINK}
    data["assetError"]["message"] = PAYLOAD
    return json.dumps(data).encode()


@pytest.mark.parametrize("vendor", ["zencoder", "lightflow"])
def test_list_and_detail_render_vendor_fields_inert(admin, client, session, vendor):
    body = zencoder_payload() if vendor == "zencoder" else lightflow_payload()
    response = post(client, vendor, body)
    assert response.status_code == 202, response.json
    failure = session.query(Failure).filter_by(notification_id=response.json["id"]).first()
    assert failure is not None

    assert_inert(admin.get("/admin/failures").get_data(as_text=True))
    assert_inert(admin.get(f"/admin/failures?q={vendor}").get_data(as_text=True), shown="")
    detail = admin.get(f"/admin/failures/{failure.id}").get_data(as_text=True)
    assert_inert(detail)
    assert EVIL_LINK in detail  # shown as text, never as a link
    assert 'href="javascript' not in detail.lower()
    raw = admin.get(f"/admin/notifications/{response.json['id']}").get_data(as_text=True)
    assert_inert(raw, shown="<script>alert(1)</script>")  # inside JSON, quotes are escaped


def test_rejected_page_renders_body_headers_and_reason_inert(admin, client):
    # Content type, headers and body are all the sender's; the 415 reason quotes the type.
    response = post(
        client,
        "zencoder",
        PAYLOAD.encode(),
        content_type="text/x-" + PAYLOAD.replace(" ", "").replace('"', ""),
        headers={"X-Evil": PAYLOAD.replace("\n", ""), "User-Agent": PAYLOAD},
    )
    assert response.status_code in (401, 415)
    authed = post(client, "zencoder", PAYLOAD.encode(), content_type="application/json")
    assert authed.status_code == 400
    page = admin.get("/admin/notifications/rejected").get_data(as_text=True)
    assert_inert(page, shown="<script>alert(1)</script>")
    for notification_id in (response.json["id"], authed.json["id"]):
        page = admin.get(f"/admin/notifications/{notification_id}").get_data(as_text=True)
        assert_inert(page, shown="<script>alert(1)</script>")


def test_csp_would_stop_a_script_even_if_escaping_failed(admin):
    csp = admin.get("/admin/failures").headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp  # none allowed at all


def test_a_deeply_nested_rejected_body_still_renders():
    from receiver.admin.present import pretty_body

    body = b"[" * 100_000 + b"]" * 100_000
    assert pretty_body(body, "application/json").startswith("[[[")
