"""Vendor-controlled text is data, never markup: every field a sender controls, on every page."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree

import pytest

from receiver.models import Failure
from tests.admin.conftest import BASE_TIME, add_failure
from tests.helpers import fixture_bytes, post

SVG = "{http://www.w3.org/2000/svg}"

PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'><svg onload=alert(3)>"
EVIL_LINK = "javascript:alert(4)"


class Markup(HTMLParser):
    """Collects what a browser would execute: script elements, handlers, script URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.dangers: list[str] = []
        self.text = ""
        self.charts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "object" and is_the_chart(dict(attrs)):
            self.charts.append(dict(attrs)["data"] or "")
        elif tag in ("script", "iframe", "object", "embed", "img"):
            self.dangers.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.dangers.append(f"{tag} {name}=")
            if (
                tag != "link"
                and name in ("href", "src", "action", "data")
                and (value or "").strip().lower().startswith(("javascript:", "data:"))
            ):
                self.dangers.append(f"{tag} {name}={value}")

    def handle_data(self, data: str) -> None:
        self.text += data


def is_the_chart(attrs: dict[str, str | None]) -> bool:
    """The one <object> the admin writes: its own chart, from a path (the filters in the query)."""
    url = urlsplit(attrs.get("data") or "")
    return (
        attrs.get("type") == "image/svg+xml"
        and not url.scheme
        and not url.netloc
        and url.path == "/admin/failures/chart.svg"
    )


def assert_inert(html: str, *, shown: str = PAYLOAD) -> list[str]:
    """Checks the page; returns the chart URLs it embeds (for :func:`assert_svg_inert`)."""
    parser = Markup()
    parser.feed(html)
    assert parser.dangers == []
    assert shown in parser.text  # rendered, as text
    return parser.charts


#: What the chart is drawn with; anything else in it (script, foreignObject, image, use...)
#: would be injected markup. Its links (<a>) only ever lead to the admin's failures list.
SVG_ELEMENTS = {"svg", "title", "text", "tspan", "line", "rect", "g", "a"}
SVG_ATTRIBUTES = {
    "xmlns", "viewBox", "width", "height", "role", "aria-labelledby", "font-family", "id", "x",
    "y", "font-size", "fill", "x1", "y1", "x2", "y2", "stroke", "text-anchor", "href", "target",
}  # fmt: skip
# Same-site, and the list's path: never javascript: or another host, whatever a category says.
CHART_LINK = re.compile(r"/admin/failures\?[^\s\"<>]+")


def assert_svg_inert(svg: bytes, *, shown: tuple[str, ...] = ()) -> None:
    """The chart document parses as XML (an unescaped '<' or a control character would break it),
    holds only the chart's own elements, no handlers, links or styles, and shows ``shown`` as
    text."""
    root = ElementTree.fromstring(svg)
    dangers = []
    for element in root.iter():
        tag = element.tag.removeprefix(SVG)
        if tag not in SVG_ELEMENTS:
            dangers.append(f"<{tag}>")
        if tag == "a" and (
            not CHART_LINK.fullmatch(element.get("href", "")) or element.get("target") != "_top"
        ):
            dangers.append(f"<a href={element.get('href')!r} target={element.get('target')!r}>")
        dangers += [
            f"{tag} {name}="
            for name in element.attrib
            if name.startswith("on")
            or (name.endswith("href") and tag != "a")
            or name == "style"
            or name not in SVG_ATTRIBUTES
        ]
    assert dangers == []
    text = "".join(root.itertext())
    for part in shown:
        assert part in text


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

    (chart_url,) = assert_inert(admin.get("/admin/failures").get_data(as_text=True))
    assert_svg_inert(admin.get(chart_url).get_data())
    assert_inert(admin.get(f"/admin/failures?q={vendor}").get_data(as_text=True), shown="")
    detail = admin.get(f"/admin/failures/{failure.id}").get_data(as_text=True)
    assert_inert(detail)
    assert EVIL_LINK in detail  # shown as text, never as a link
    assert 'href="javascript' not in detail.lower()
    raw = admin.get(f"/admin/notifications/{response.json['id']}").get_data(as_text=True)
    assert_inert(raw, shown="<script>alert(1)</script>")  # inside JSON, quotes are escaped


#: Category names come from the catalog, but the chart treats them as untrusted anyway (each
#: fits the column's 32 characters).
HOSTILE_CATEGORIES = (
    "</title><script>a(6)</script>",
    '"/><svg onload=alert(7)>',
    "<a href=javascript:a(8)>x</a>&",
    "]]><foreignObject>",
    "bell\x07and\x0bvtab",  # legal in HTML, not in an XML document
)


def test_chart_renders_category_names_inert(admin, session):
    for category in HOSTILE_CATEGORIES:
        add_failure(session, category=category, occurred_at=BASE_TIME)
    html = admin.get("/admin/failures?until=2026-11-01").get_data(as_text=True)
    (chart_url,) = assert_inert(html, shown="")
    response = admin.get(chart_url)
    assert response.status_code == 200
    shown = [c for c in HOSTILE_CATEGORIES if c.isprintable()] + ["bell\ufffdand\ufffdvtab"]
    assert_svg_inert(response.get_data(), shown=tuple(shown))
    titles = {t.text for t in ElementTree.fromstring(response.get_data()).iter(f"{SVG}title")}
    assert {f"2026-11-01: 1 {c}" for c in shown} <= titles  # the tooltips, whole


def test_filters_in_the_chart_url_stay_in_the_attribute(admin):
    html = admin.get("/admin/failures?" + urlencode({"vendor": PAYLOAD[:32], "code": PAYLOAD}))
    (chart_url,) = assert_inert(html.get_data(as_text=True), shown="")
    assert parse_qs(urlsplit(chart_url).query) == {"vendor": [PAYLOAD[:32]], "code": [PAYLOAD]}
    assert_svg_inert(admin.get(chart_url).get_data())


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
