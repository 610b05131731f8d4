"""The ``codes`` click group, run through click's CliRunner (no Flask app needed)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from receiver.catalog.cli import codes


@pytest.fixture
def run():  # type: ignore[no-untyped-def]
    runner = CliRunner(env={"COLUMNS": "200"})

    def invoke(*args: str) -> Result:
        return runner.invoke(codes, list(args), catch_exceptions=False)

    return invoke


@pytest.mark.parametrize(
    ("vendor", "code", "expected"),
    [
        ("lightflow", "2429", ["lightflow 2429", "rate_limited", "Too many requests", "backoff"]),
        ("kvs", "0x5200005c", ["STATUS_ACK_ERR_STREAM_READ_ERROR", "stream", "client", "4000"]),
        ("kvs", "0x5200005C", ["STATUS_ACK_ERR_STREAM_READ_ERROR"]),
        ("agora", "409", ["Conflict", "configuration", "delete the existing transcoder"]),
        ("zencoder", "UnableToResolveHostError", ["network", "resolving the host"]),
        ("lightflow", "2418", ["Remote server returned HTTP 418", "remote_http_status"]),
    ],
)
def test_explain_known(run, vendor: str, code: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = run("explain", vendor, code)
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output


def test_explain_unknown_exits_1_with_suggestions(run) -> None:  # type: ignore[no-untyped-def]
    result = run("explain", "zencoder", "UnableToResolveHostErr")
    assert result.exit_code == 1
    assert "not in catalog" in result.output
    assert "Nearest known zencoder codes" in result.output
    assert "UnableToResolveHostError" in result.output


def test_explain_kvs_library_fallback(run) -> None:  # type: ignore[no-untyped-def]
    result = run("explain", "kvs", "0x520000ff")
    assert result.exit_code == 1
    assert "client" in result.output
    assert "0x520000fe" not in result.output  # only listed codes are suggested
    assert "0x5200008f" in result.output


def test_explain_json(run) -> None:  # type: ignore[no-untyped-def]
    result = run("explain", "agora", "409", "--json")
    assert result.exit_code == 0
    payload = json.loads(result.output)
    assert payload["code"] == "409" and payload["known"] is True
    unknown = run("explain", "lightflow", "9999", "--json")
    assert unknown.exit_code == 1
    assert json.loads(unknown.output)["suggestions"][0] == "7001"


def test_explain_bad_vendor_is_usage_error(run) -> None:  # type: ignore[no-untyped-def]
    result = run("explain", "acme", "1")
    assert result.exit_code == 2
    assert "acme" in result.output


def test_explain_does_not_render_markup_from_input(run) -> None:  # type: ignore[no-untyped-def]
    result = run("explain", "zencoder", "[bold]Boom[/bold]")
    assert result.exit_code == 1
    assert "[bold]Boom[/bold]" in result.output


def test_list_filters_by_vendor(run) -> None:  # type: ignore[no-untyped-def]
    result = run("list", "--vendor", "agora")
    assert result.exit_code == 0
    assert "24 entries" in result.output
    for status in ("200", "409", "504"):
        assert status in result.output
    assert "0x5200005c" not in result.output


def test_list_filters_by_category(run) -> None:  # type: ignore[no-untyped-def]
    result = run("list", "--category", "drm", "--json")
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert rows and {r["category"] for r in rows} == {"drm"}
    both = run("list", "--vendor", "kvs", "--category", "account_limit", "--json")
    rows = [json.loads(line) for line in both.output.splitlines()]
    assert rows and {(r["vendor"], r["category"]) for r in rows} == {("kvs", "account_limit")}


def test_list_table_by_vendor_and_category(run) -> None:  # type: ignore[no-untyped-def]
    result = run("list", "--vendor", "lightflow", "--category", "drm")
    assert result.exit_code == 0
    assert "2050" in result.output and "2066" in result.output
    assert "2404" not in result.output


def test_list_bad_category(run) -> None:  # type: ignore[no-untyped-def]
    result = run("list", "--category", "nope")
    assert result.exit_code == 2


def test_categories(run) -> None:  # type: ignore[no-untyped-def]
    result = run("categories")
    assert result.exit_code == 0
    assert "remote_unavailable" in result.output


def test_bad_data_dir_reports_catalog_error(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "agora.toml").write_text('version = 1\nvendor = "agora"\nentries = []\n')
    result = run("--data-dir", str(tmp_path), "list")
    assert result.exit_code == 1
    assert "agora.toml" in result.output and "entries" in result.output


def test_group_can_be_nested_under_another_cli() -> None:
    """The main ``receiver`` CLI adds this group; it must not depend on the parent's ctx.obj."""

    @click.group()
    @click.pass_context
    def receiver(ctx: click.Context) -> None:
        ctx.obj = object()  # e.g. Flask's ScriptInfo

    receiver.add_command(codes)
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        receiver, ["codes", "explain", "agora", "429"]
    )
    assert result.exit_code == 0, result.output
    assert "rate_limited" in result.output
