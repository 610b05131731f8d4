"""WSGI entry point for gunicorn: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

import sys

from receiver import create_app
from receiver.catalog import CatalogError
from receiver.settings import SettingsError

try:
    app = create_app()
except (SettingsError, CatalogError) as error:
    # One clear line instead of a traceback; exit code 4 is gunicorn's "app failed to load".
    print(f"receiver: configuration error: {error}", file=sys.stderr)
    sys.exit(4)
