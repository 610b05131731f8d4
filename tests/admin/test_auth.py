"""Who gets in: login form, HTTP Basic, CSRF, rate limit, cookies and security headers."""

from __future__ import annotations

import pytest

from receiver import create_app
from tests.admin.conftest import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    add_failure,
    admin_settings,
    basic,
    csrf_token,
    log_in,
)
from tests.conftest import make_settings, rolled_back
from tests.helpers import post_fixture

HTML_PAGES = ["/admin/failures", "/admin/failures/1", "/admin/notifications/rejected"]
MACHINE_ENDPOINTS = ["/admin/failures.csv", "/api/failures", "/api/failures/1", "/api/codes"]


@pytest.mark.parametrize("path", HTML_PAGES)
def test_anonymous_browser_is_sent_to_the_login_form(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location.startswith("/admin/login?next=")


@pytest.mark.parametrize("path", MACHINE_ENDPOINTS)
def test_anonymous_script_gets_401_with_a_basic_challenge(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert response.json["message"] == "authentication required"


@pytest.mark.parametrize("path", MACHINE_ENDPOINTS + HTML_PAGES[:1])
def test_http_basic_with_the_admin_credentials_is_accepted(client, path):
    assert client.get(path, headers=basic()).status_code in (200, 404)


def test_wrong_basic_credentials_are_refused(client):
    assert client.get("/api/failures", headers=basic(password="wrong")).status_code == 401
    assert client.get("/api/failures", headers=basic(user="admin")).status_code == 401


def test_login_form_sets_a_hardened_session_cookie_and_follows_next(client):
    token = csrf_token(client)
    response = client.post(
        "/admin/login",
        data={
            "csrf_token": token,
            "username": ADMIN_USER,
            "password": ADMIN_PASSWORD,
            "next": "/admin/notifications/rejected",
        },
    )
    assert response.status_code == 302
    assert response.location == "/admin/notifications/rejected"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("receiver_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP: a Secure cookie would never come back
    assert client.get("/admin/failures").status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_login_never_redirects_off_site(client, target):
    token = csrf_token(client)
    response = client.post(
        "/admin/login",
        data={
            "csrf_token": token,
            "username": ADMIN_USER,
            "password": ADMIN_PASSWORD,
            "next": target,
        },
    )
    assert response.location == "/admin/"


def test_wrong_password_on_the_form_is_401_and_grants_nothing(client):
    token = csrf_token(client)
    response = client.post(
        "/admin/login", data={"csrf_token": token, "username": ADMIN_USER, "password": "nope"}
    )
    assert response.status_code == 401
    assert "Wrong user or password" in response.get_data(as_text=True)
    assert client.get("/admin/failures").status_code == 302


def test_logout_ends_the_session(admin):
    token = csrf_token(admin, "/admin/failures")
    assert admin.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert admin.get("/admin/failures").status_code == 302


def test_post_without_csrf_token_is_refused(admin, session):
    failure = add_failure(session)
    response = admin.post("/admin/failures/actions", data={"id": failure.id, "action": "resolve"})
    assert response.status_code == 400
    assert "CSRF" in response.json["message"]
    session.refresh(failure)
    assert failure.status == "open"


def test_post_with_a_foreign_csrf_token_is_refused(admin, client, session, shared_app):
    failure = add_failure(session)
    other = shared_app.test_client()
    foreign = csrf_token(other)  # valid for another session only
    response = admin.post(
        "/admin/failures/actions",
        data={"id": failure.id, "action": "resolve", "csrf_token": foreign},
    )
    assert response.status_code == 400
    session.refresh(failure)
    assert failure.status == "open"


def test_login_form_itself_needs_csrf(client):
    response = client.post(
        "/admin/login", data={"username": ADMIN_USER, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 400


def test_changing_the_password_ends_existing_sessions(database_url):
    first = create_app(admin_settings(database_url))
    client = first.test_client()
    log_in(client)
    assert client.get("/admin/failures").status_code == 200
    rotated = create_app(admin_settings(database_url, admin_password="a brand new password!"))
    with rotated.test_client() as second:
        second.set_cookie("receiver_session", client.get_cookie("receiver_session").value)
        assert second.get("/admin/failures").status_code == 302


def test_repeated_failed_logins_are_rate_limited(database_url):
    app = create_app(admin_settings(database_url, admin_login_limit="3 per minute"))
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/codes", headers=basic(password="guess")).status_code == 401
    # The right password no longer helps from this address until the window passes,
    # neither by Basic auth nor through the login form.
    refused = client.get("/api/codes", headers=basic())
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    response = client.get("/admin/login")
    assert response.status_code == 429
    assert response.json["message"]
    # Another address is not affected.
    other = client.get("/api/codes", headers=basic(), environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200
    # Vendors are never throttled by the admin's login limit, whatever address they post from.
    with rolled_back(app):
        assert post_fixture(client, "lightflow", "asset_ready.json").status_code == 202


def test_successful_requests_do_not_count_against_the_limit(database_url):
    app = create_app(admin_settings(database_url, admin_login_limit="2 per minute"))
    client = app.test_client()
    for _ in range(5):
        assert client.get("/api/codes", headers=basic()).status_code == 200


def test_hashed_password_is_accepted(database_url):
    from werkzeug.security import generate_password_hash

    app = create_app(
        admin_settings(
            database_url,
            admin_password=None,
            admin_password_hash=generate_password_hash("hashed password 123"),
        )
    )
    client = app.test_client()
    assert (
        client.get("/api/codes", headers=basic(password="hashed password 123")).status_code == 200
    )
    assert client.get("/api/codes", headers=basic(password=ADMIN_PASSWORD)).status_code == 401


def test_admin_without_configured_credentials_answers_503(database_url):
    client = create_app(make_settings(database_url)).test_client()
    for path in ("/admin/login", "/admin/failures", "/api/failures"):
        response = client.get(path)
        assert response.status_code == 503
        assert "RECEIVER_ADMIN_PASSWORD" in response.json["message"]


def test_security_headers_forbid_scripts_inline_styles_and_framing(admin):
    response = admin.get("/admin/failures")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "style-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "style=" not in response.get_data(as_text=True)
    assert "<script" not in response.get_data(as_text=True)


def test_behind_a_trusted_tls_proxy_the_cookie_is_secure(database_url):
    app = create_app(admin_settings(database_url, trusted_proxies=1))
    client = app.test_client()
    https = {"X-Forwarded-Proto": "https"}
    page = client.get("/admin/login", headers=https).get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post(
        "/admin/login",
        data={"csrf_token": token, "username": ADMIN_USER, "password": ADMIN_PASSWORD},
        headers={**https, "Referer": "https://localhost/admin/login"},
    )
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_forwarded_proto_is_ignored_without_trusted_proxies(client):
    response = client.get("/admin/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
