"""The JSON API and its OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

from tests.admin.conftest import BASE_TIME, add_failure, basic
from tests.helpers import fixture_bytes, post


def test_failures_api_pages_with_the_same_filters(client, session):
    ids = [
        add_failure(session, vendor="lightflow", occurred_at=BASE_TIME - timedelta(seconds=n)).id
        for n in range(5)
    ]
    add_failure(session, vendor="zencoder")
    seen, cursor = [], None
    while True:
        query = {"vendor": "lightflow", "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/failures", query_string=query, headers=basic())
        assert response.status_code == 200
        seen += [item["id"] for item in response.json["items"]]
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
    assert seen == ids
    item = client.get("/api/failures?limit=1", headers=basic()).json["items"][0]
    assert set(item) >= {
        "id",
        "occurred_at",
        "vendor",
        "job_id",
        "output_label",
        "code",
        "category",
        "severity",
        "retryable",
        "message",
        "status",
    }


def test_failures_api_validates_its_query(client):
    response = client.get("/api/failures?limit=0&severity=nope", headers=basic())
    assert response.status_code == 422
    assert set(response.json["errors"]["query"]) == {"limit", "severity"}
    assert response.json["message"]
    assert client.get("/api/failures?cursor=xyz", headers=basic()).status_code == 400


def test_failure_detail_api(client, session):
    response = post(client, "zencoder", fixture_bytes("zencoder", "output_failed.json"))
    listing = client.get("/api/failures", headers=basic()).json["items"]
    failure_id = listing[0]["id"]
    detail = client.get(f"/api/failures/{failure_id}", headers=basic()).json
    assert detail["notification_id"] == response.json["id"]
    assert detail["code"] == "TranscodingError"
    assert detail["catalog"]["code"] == "TranscodingError" and detail["catalog"]["action"]
    assert {f["kind"] for f in detail["job"]["files"]} == {"input", "output"}
    assert client.get("/api/failures/999999", headers=basic()).status_code == 404


def test_codes_api(client):
    listed = client.get("/api/codes?vendor=lightflow", headers=basic())
    assert listed.status_code == 200
    assert listed.json and {entry["vendor"] for entry in listed.json} == {"lightflow"}
    known = client.get("/api/codes/lightflow/2429", headers=basic())
    assert known.status_code == 200 and known.json["known"] is True
    unknown = client.get("/api/codes/lightflow/999999", headers=basic())
    assert unknown.status_code == 404
    assert unknown.json["entry"]["known"] is False and "suggestions" in unknown.json["entry"]
    assert client.get("/api/codes/nosuchvendor/1", headers=basic()).status_code == 404


def test_openapi_document_covers_the_api_and_the_hooks(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/failures",
        "/api/failures/{failure_id}",
        "/api/codes",
        "/api/codes/{vendor}/{code}",
        "/hooks/zencoder",
        "/hooks/lightflow",
    ):
        assert path in spec["paths"], path
    parameters = {p["name"] for p in spec["paths"]["/api/failures"]["get"]["parameters"]}
    assert {
        "vendor",
        "category",
        "severity",
        "code",
        "status",
        "since",
        "until",
        "q",
        "cursor",
        "limit",
    } <= parameters
    hook = spec["paths"]["/hooks/zencoder"]["post"]
    ref = hook["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    payload = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"job", "output", "outputs", "input"} <= set(payload["properties"])
    assert {"202", "401", "422", "503"} <= set(hook["responses"])
    # What the vendor's folder declares: its name for people and its documentation.
    assert hook["summary"] == "Zencoder notification"
    assert hook["externalDocs"]["url"].startswith("https://zencoder.support.brightcove.com/")
    assert "error-codes" in hook["description"]
    assert "basicAuth" in spec["components"]["securitySchemes"]
