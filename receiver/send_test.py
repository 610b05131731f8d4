"""``receiver send-test``: a fixture sent to a running receiver as its vendor would send it.

The fixture goes to the endpoint its vendor's folder routes it to (Agora's ``api_error_*`` to
``/hooks/agora/api-errors``, CloudWatch alarms to ``/hooks/sns``), with its times moved to now
(``--keep-dates`` sends them as they are), signed with this terminal's settings (the
environment, then the env file ``receiver run`` wrote): the running receiver's own secrets.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from receiver.fixtures import FIXTURES_DIR, Fixture, fixture_at, fixtures_of, vendors_with
from receiver.local_env import ENV_FILE
from receiver.vendors import BY_NAME, VENDORS, Vendor
from receiver.vendors.base import Provider


@click.command(
    "send-test",
    short_help="Post a fixture to a running receiver, signed as the vendor would.",
    epilog="\b\nExamples:\n  receiver send-test zencoder output_failed.json\n"
    "  receiver send-test agora api_error_404.json      # to /hooks/agora/api-errors\n"
    "  receiver send-test sns subscription_confirmation.json\n"
    "  receiver send-test cloudwatch alarm_putmedia_success_alarm.json\n"
    "  receiver send-test kvs                           # lists its fixtures\n"
    "  receiver send-test zencoder output_failed.json --keep-dates   # 2024, as in the file\n"
    "  receiver send-test lightflow asset_error_2404.json --url http://127.0.0.1:8001",
)
@click.argument("target", metavar="VENDOR")
@click.argument("fixture", required=False)
@click.option("--url", default="http://127.0.0.1:8000", show_default=True, help="The receiver.")
@click.option(
    "--keep-dates",
    is_flag=True,
    help="Send the fixture's dates as they are (by default all move alike, the latest to now).",
)
@with_appcontext
def send_test(target: str, fixture: str | None, url: str, keep_dates: bool) -> None:
    """Post FIXTURE (a file name under fixtures/<vendor>/, or a path) to a running receiver, to
    the endpoint the vendor's folder routes it to, with the credentials or signature the vendor
    would send. Without FIXTURE, list the vendor's fixtures.

    VENDOR is a vendor's name or one of its endpoints (agora/api-errors). Sent twice, a fixture
    is a resend of the same event: the receiver answers that it is a duplicate.
    """
    if not url.startswith(("http://", "https://")):
        raise click.BadParameter("must be an http:// or https:// URL", param_hint="--url")
    vendor, endpoint = resolve(target)
    if fixture is None:
        list_fixtures(vendor)
        return
    chosen = find_fixture(vendor, fixture)
    route = endpoint or chosen.endpoint
    if route != chosen.endpoint:
        click.echo(
            f"receiver: note: {chosen.path.name} is a fixture of /hooks/{chosen.endpoint}; "
            f"sending it to /hooks/{route} as asked",
            err=True,
        )
    body = chosen.path.read_bytes()
    if not keep_dates:
        body = chosen.vendor.fixture_dates.moved(body, datetime.now(UTC), xml=chosen.is_xml)
    try:
        body, headers = provider_of(route).sender_request(body)
    except NotImplementedError as error:
        raise click.ClickException(str(error)) from None
    dates = "as they are" if keep_dates else "moved to now"
    click.echo(
        f"receiver: {_shown(chosen.path)} -> {url.rstrip('/')}/hooks/{route} (dates {dates})",
        err=True,
    )
    status, answer = post(f"{url.rstrip('/')}/hooks/{route}", body, chosen.content_type, headers)
    click.echo(f"{status} {answer}")
    if status == 401:
        click.echo(
            "receiver: refused: the receiver at that URL does not have this terminal's secrets "
            f"(they come from the environment, then {ENV_FILE})",
            err=True,
        )
    if status >= 400:
        raise SystemExit(1)


def targets() -> dict[str, tuple[Vendor, str | None]]:
    """What VENDOR may be: each vendor's name (its fixtures go where its folder routes them)
    and each endpoint, enabled or named by a folder's routes (agora/api-errors)."""
    found: dict[str, tuple[Vendor, str | None]] = {v.name: (v, None) for v in VENDORS}
    for vendor in VENDORS:
        for _pattern, endpoint in vendor.fixture_endpoints:
            found.setdefault(endpoint, (vendor, endpoint))
    providers: dict[str, Provider] = current_app.extensions["providers"]
    for endpoint, provider in providers.items():
        if provider.vendor in BY_NAME:
            found.setdefault(endpoint, (BY_NAME[provider.vendor], endpoint))
    return found


def resolve(target: str) -> tuple[Vendor, str | None]:
    """The vendor whose fixtures to look in, and the endpoint if ``target`` names one."""
    known = targets()
    if target not in known:
        raise click.UsageError(f"no vendor {target!r}: VENDOR is one of {', '.join(sorted(known))}")
    return known[target]


def list_fixtures(vendor: Vendor) -> None:
    fixtures = fixtures_of(vendor)
    if not fixtures:
        click.echo(f"{vendor.name} has no fixtures in {FIXTURES_DIR / vendor.name}")
        return
    click.echo(
        f"fixtures of {vendor.name} ({_shown(FIXTURES_DIR / vendor.name)}/); "
        f"send one with `receiver send-test {vendor.name} NAME`:"
    )
    width = max(len(fixture.path.name) for fixture in fixtures)
    for fixture in fixtures:
        click.echo(f"  {fixture.path.name:<{width}}  -> /hooks/{fixture.endpoint}")


def find_fixture(vendor: Vendor, name: str) -> Fixture:
    """A path, or a file name in the vendor's fixtures; an error naming where it is if another
    vendor has it."""
    path = Path(name)
    if path.is_file():
        return fixture_at(path, vendor)
    path = FIXTURES_DIR / vendor.name / name
    if path.is_file():
        return Fixture(path, vendor)
    owners = vendors_with(name)
    if owners:
        raise click.UsageError(
            f"{name} is a fixture of {owners[0].name}, not of {vendor.name}: "
            f"`receiver send-test {owners[0].name} {name}`"
        )
    raise click.UsageError(
        f"no fixture {name!r} in {_shown(path.parent)}/ "
        f"(`receiver send-test {vendor.name}` lists them)"
    )


def provider_of(endpoint: str) -> Provider:
    """The endpoint's provider in this terminal's settings; an error naming what enables it."""
    provider: Provider | None = current_app.extensions["providers"].get(endpoint)
    if provider is not None:
        return provider
    owner = BY_NAME.get(endpoint.split("/")[0])
    variables = " or ".join(s.variable for s in owner.settings) if owner else "its setting"
    raise click.ClickException(
        f"/hooks/{endpoint} is not enabled here: {variables} is set neither in the "
        f"environment nor in {ENV_FILE} (`make run` writes it on first start)"
    )


def post(url: str, body: bytes, content_type: str, headers: dict[str, str]) -> tuple[int, str]:
    """POST ``body``; the answer's status and text (an error status is an answer too)."""
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked by the command
        url, data=body, headers={"Content-Type": content_type, **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, answer = error.code, error.read()
    except OSError as error:
        raise click.ClickException(
            f"cannot reach {url}: {error} (is the receiver running? `make run`, or give --url)"
        ) from None
    return status, answer.decode("utf-8", "replace").rstrip("\n")


def _shown(path: Path) -> str:
    """``path`` relative to the current folder when it is below it."""
    try:
        return str(path.resolve().relative_to(Path(os.getcwd()).resolve()))
    except ValueError:
        return str(path)
