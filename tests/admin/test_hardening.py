"""The smaller holes of issue #17 on the operator's side: a CR/LF ``next``, sessions that
outlived their logout, cacheable private pages, and a proxy setting that does not fit."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import delete
from werkzeug.test import Client

from receiver import create_app
from receiver.admin.security import ProxySettingCheck
from receiver.db import get_database
from receiver.models import AdminSessionGeneration
from tests.admin.conftest import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    admin_settings,
    basic,
    csrf_token,
    log_in,
)


@pytest.mark.parametrize(
    "target", ["/admin/failures\r\nSet-Cookie: x=1", "/admin/\nfailures", "/admin/\x7f"]
)
def test_control_characters_in_next_redirect_to_the_default_page(client, target):
    response = client.post(
        "/admin/login",
        data={
            "csrf_token": csrf_token(client),
            "username": ADMIN_USER,
            "password": ADMIN_PASSWORD,
            "next": target,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"  # the default page: what is failing


def test_logout_ends_the_session_for_every_copy_of_the_cookie(app, client):
    log_in(client)
    cookie = client.get_cookie("receiver_session")
    assert cookie is not None
    # Another browser (or a thief) holding the same cookie...
    other = app.test_client()
    other.set_cookie("receiver_session", cookie.value)
    assert other.get("/admin/failures").status_code == 200

    token = csrf_token(client, "/admin/failures")
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    # ...is logged out too, by the database, not by a cookie the client may keep.
    response = other.get("/admin/failures")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    log_in(client)  # and logging in again works
    assert client.get("/admin/failures").status_code == 200


def test_logout_is_seen_by_another_process_on_the_same_database(database_url):
    # Two apps stand for two gunicorn workers: they share only the (really committed) database.
    first, second = (create_app(admin_settings(database_url)) for _ in range(2))
    try:
        browser = first.test_client()
        log_in(browser)
        cookie = browser.get_cookie("receiver_session").value
        elsewhere = second.test_client()
        elsewhere.set_cookie("receiver_session", cookie)
        assert elsewhere.get("/admin/failures").status_code == 200
        browser.post("/admin/logout", data={"csrf_token": csrf_token(browser, "/admin/failures")})
        assert elsewhere.get("/admin/failures").status_code == 302
    finally:
        with get_database(first).engine.begin() as connection:
            connection.execute(delete(AdminSessionGeneration))
        for app in (first, second):
            get_database(app).engine.dispose()


@pytest.mark.parametrize(
    "path", ["/admin/failures", "/admin/notifications/rejected", "/api/failures", "/api/codes"]
)
def test_authenticated_responses_are_never_stored(client, path):
    response = client.get(path, headers=basic())
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_webhook_answers_are_not_marked_private(client):
    assert "Cache-Control" not in client.post("/hooks/zencoder", data=b"{}").headers


def _call(check: ProxySettingCheck, **environ: str) -> None:
    Client(check).get("/healthz", environ_base=environ)


def _ok(_environ, start_response):
    start_response("200 OK", [])
    return [b""]


def test_forwarded_headers_with_no_trusted_proxy_warn_once(caplog):
    check = ProxySettingCheck(_ok, trusted_proxies=0)
    with caplog.at_level(logging.WARNING, "receiver.admin.security"):
        _call(check)
        assert caplog.records == []
        _call(check, HTTP_X_FORWARDED_FOR="203.0.113.9")
        _call(check, HTTP_X_FORWARDED_FOR="203.0.113.9")
    [record] = caplog.records
    assert "RECEIVER_TRUSTED_PROXIES=0" in record.getMessage()


def test_a_trusted_proxy_setting_without_forwarded_headers_warns(caplog):
    check = ProxySettingCheck(_ok, trusted_proxies=1)
    with caplog.at_level(logging.WARNING, "receiver.admin.security"):
        _call(check, HTTP_X_FORWARDED_FOR="203.0.113.9")
        assert caplog.records == []
        _call(check)
    [record] = caplog.records
    assert "without X-Forwarded-For but RECEIVER_TRUSTED_PROXIES=1" in record.getMessage()
