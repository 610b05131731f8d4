"""``receiver export``: the admin's failures CSV from the command line, same filters."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from marshmallow import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from receiver.admin.export import csv_lines
from receiver.catalog import SEVERITIES
from receiver.db import get_session
from receiver.failures import FAILURE_STATUSES, count_failures, load_query


@click.command(
    "export",
    short_help="Write the failures matching the filters as CSV, newest first.",
    epilog="\b\nExamples:\n  receiver export --vendor zencoder --since 2026-11-01 > failures.csv\n"
    "  receiver export --category credentials --status open -o open-credentials.csv",
)
@with_appcontext
@click.option("--format", "format_", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("--vendor")
@click.option("--category")
@click.option("--severity", type=click.Choice(SEVERITIES))
@click.option("--code", help="exact vendor code")
@click.option("--status", type=click.Choice(FAILURE_STATUSES))
@click.option("--since", metavar="YYYY-MM-DD", help="first day (UTC), inclusive")
@click.option("--until", metavar="YYYY-MM-DD", help="last day (UTC), inclusive")
@click.option("-q", "--search", "q", help="text in the job id, output id or label, or message")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="file to write (default: standard output)",
)
def export(format_: str, output: str, **options: str | None) -> None:
    """Write the failures matching the filters as CSV, newest first (progress on stderr).

    Example: receiver export --vendor zencoder --since 2026-11-01 > failures.csv
    """
    try:
        filters, _cursor, _limit = load_query({k: v for k, v in options.items() if v})
    except ValidationError as error:
        raise click.UsageError(f"invalid filters: {error.normalized_messages()}") from None
    session = get_session()
    total = count_failures(session, filters)
    progress = Progress(
        TextColumn("exporting failures"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
    with progress, click.open_file(output, "wb") as stream:
        task = progress.add_task("export", total=total)
        for chunk in csv_lines(session, filters, progress=lambda n: progress.advance(task, n)):
            stream.write(chunk)
