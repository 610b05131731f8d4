"""Run the Alembic migrations from code: the CLI, the app's readiness check and the tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from alembic import command

# The alembic/ folder sits beside the package (the project is installed editable, see README).
ALEMBIC_DIR = Path(__file__).resolve().parent.parent / "alembic"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    if url:
        # ConfigParser treats % as interpolation; URLs may contain escaped characters.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run migrations in one transaction; on SQLite with foreign keys off meanwhile.

    Batch mode rebuilds a SQLite table by copying it and dropping the old one; with foreign keys
    on (the app's connections turn them on), that DROP deletes every row referring to the table
    through ON DELETE CASCADE (rebuilding alert_groups would empty the outbox). SQLite's own
    procedure for such changes: keys off outside the transaction, check them before commit.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        raw = connection.connection.driver_connection
        if sqlite and raw is not None:  # a PRAGMA in a transaction is ignored: on the idle one
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                step(alembic_config(connection=connection), revision)
                if sqlite and (
                    broken := connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                ):
                    raise RuntimeError(f"migration left rows without their parent: {broken[:5]}")
        finally:
            if sqlite and raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
