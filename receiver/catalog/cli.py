"""``codes`` command group: explain a vendor code or list the catalog from a terminal.

Plain click (no Flask app context) so on-call can decode a code without a database or config;
the main ``receiver`` CLI registers this group. The one module of the catalog that asks the
vendor registry for the catalog: the rest of the package knows no vendor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

import click
from flask.cli import with_appcontext
from rich import box
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from receiver.vendors import catalog_in, default_catalog

from ._catalog import Catalog
from ._model import CATEGORIES, CatalogEntry, CatalogError

_SEVERITY_STYLE = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "green"}


def _console() -> Console:
    # Created per command so CliRunner's captured stdout and COLUMNS are honoured.
    return Console(highlight=False, soft_wrap=False)


#: ``ctx.meta`` key: meta is shared by nested contexts and, unlike ``ctx.obj``, does not clash
#: with whatever object the parent ``receiver`` CLI keeps there (e.g. Flask's ScriptInfo).
_META_KEY = "receiver.catalog"


def _catalog(ctx: click.Context) -> Catalog:
    return cast(Catalog, ctx.meta[_META_KEY])


def _check_vendor(catalog: Catalog, vendor: str) -> str:
    name = vendor.strip().lower()
    if name not in catalog.vendors:
        raise click.BadParameter(
            f"{vendor!r} is not one of {', '.join(catalog.vendors)}", param_hint="VENDOR"
        )
    return name


@click.group(
    "codes",
    short_help="Explain vendor failure codes and re-apply the catalog.",
    epilog="\b\nExamples:\n  receiver codes explain lightflow 2429\n  receiver codes explain kvs 0x5200005c\n"
    "  receiver codes list --vendor kvs --category credentials",
)
@click.option(
    "--data-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Load catalog files from this directory instead of the packaged data.",
)
@click.pass_context
def codes(ctx: click.Context, data_dir: Path | None) -> None:
    """Explain vendor failure codes (Zencoder, LightFlow, Agora, KVS)."""
    try:
        catalog = catalog_in(data_dir) if data_dir else default_catalog()
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    ctx.meta[_META_KEY] = catalog


@codes.command("explain")
@click.argument("vendor")
@click.argument("code")
@click.option("--json", "as_json", is_flag=True, help="Print the entry as JSON.")
@click.option("--limit", default=5, show_default=True, help="Suggestions for unknown codes.")
@click.pass_context
def explain(ctx: click.Context, vendor: str, code: str, as_json: bool, limit: int) -> None:
    """Explain CODE from VENDOR. Exits 1 (with the nearest known codes) if it is not listed."""
    catalog = _catalog(ctx)
    vendor = _check_vendor(catalog, vendor)
    entry = catalog.lookup(vendor, code)
    suggestions = [] if entry.known else catalog.nearest(vendor, code, limit=limit)
    if as_json:
        payload = entry.to_dict()
        if not entry.known:
            payload["suggestions"] = [s.code for s in suggestions]
        click.echo(json.dumps(payload, indent=2, sort_keys=True))
    else:
        console = _console()
        console.print(_entry_panel(entry))
        if suggestions:
            table = _entries_table(suggestions, title=f"Nearest known {vendor} codes")
            console.print(table)
    if not entry.known:
        ctx.exit(1)


@codes.command("list")
@click.option("--vendor", help="Only this vendor.")
@click.option("--category", help="Only this category (see `codes categories`).")
@click.option("--json", "as_json", is_flag=True, help="Print entries as JSON lines.")
@click.pass_context
def list_codes(ctx: click.Context, vendor: str | None, category: str | None, as_json: bool) -> None:
    """List catalog entries, optionally filtered by vendor and category."""
    catalog = _catalog(ctx)
    if vendor is not None:
        vendor = _check_vendor(catalog, vendor)
    if category is not None and category not in CATEGORIES:
        raise click.BadParameter(
            f"{category!r} is not one of {', '.join(CATEGORIES)}", param_hint="--category"
        )
    entries = catalog.entries(vendor=vendor, category=category)
    if as_json:
        for entry in entries:
            click.echo(json.dumps(entry.to_dict(), sort_keys=True))
        return
    title = f"{len(entries)} entries" + "".join(
        f" {k}={v}" for k, v in (("vendor", vendor), ("category", category)) if v
    )
    _console().print(_entries_table(entries, title=title))


@codes.command("categories")
def categories() -> None:
    """Show the shared category vocabulary."""
    table = Table(box=box.SIMPLE, title="Categories")
    table.add_column("category", style="bold", no_wrap=True)
    table.add_column("meaning")
    for name, meaning in CATEGORIES.items():
        table.add_row(Text(name), Text(meaning))
    _console().print(table)


def _entry_panel(entry: CatalogEntry) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    severity = Text(entry.severity, style=_SEVERITY_STYLE.get(entry.severity, ""))
    rows: list[tuple[str, str | Text]] = [
        ("code", entry.code),
        ("name", entry.name or "-"),
        ("category", f"{entry.category} - {CATEGORIES.get(entry.category, '')}"),
        ("severity", severity),
        ("retryable", entry.retryable),
        ("description", entry.description),
        ("action", entry.action),
    ]
    if entry.doc_url:
        rows.append(("docs", entry.doc_url))
    rows += [(key, value) for key, value in entry.details.items()]
    for key, value in rows:
        # Text(), not str: codes come from webhooks and must never be read as rich markup.
        grid.add_row(Text(key), value if isinstance(value, Text) else Text(value))
    status = "" if entry.known else " (not in catalog)"
    return Panel(
        grid,
        title=Text(f"{entry.vendor} {entry.code}{status}"),
        title_align="left",
        border_style="green" if entry.known else "red",
    )


def _entries_table(entries: list[CatalogEntry], *, title: str) -> Table:
    table = Table(title=Text(title), box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("vendor", no_wrap=True)
    table.add_column("code", no_wrap=True)
    table.add_column("name", overflow="fold")
    table.add_column("category", no_wrap=True)
    table.add_column("severity", no_wrap=True)
    table.add_column("retry", no_wrap=True)
    table.add_column("description", overflow="fold", ratio=1)
    for entry in entries:
        table.add_row(
            Text(entry.vendor),
            Text(entry.code),
            Text(entry.name or ""),
            Text(entry.category),
            Text(entry.severity, style=_SEVERITY_STYLE.get(entry.severity, "")),
            Text(entry.retryable),
            Text(entry.description),
        )
    return table


@codes.command("reclassify")
@click.option("--dry-run", is_flag=True, help="Count what would change, then roll back.")
@with_appcontext
@click.pass_context
def reclassify(ctx: click.Context, dry_run: bool) -> None:
    """Re-apply the catalog to every stored failure (after a catalog change)."""
    # Imported here: the rest of this group must work without an app or a database.
    from receiver.db import get_session
    from receiver.storage import reclassify_failures

    session = get_session()
    changed = reclassify_failures(session, _catalog(ctx).lookup)
    if dry_run:
        session.rollback()
    else:
        session.commit()
    click.echo(
        f"{changed} failure(s) {'would be' if dry_run else ''} reclassified".replace("  ", " ")
    )
