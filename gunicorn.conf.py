"""Production gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment (GUNICORN_*) or the command line.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# A request stuck longer than this is killed; vendors retry, and nothing is acknowledged unstored.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
accesslog = "-"
# %(U)s is the path without the query string, so a `?token=` never reaches the log.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms "%(a)s"'


def on_starting(server):
    """Check the settings once in the master, so a bad one is one line, not a worker crash loop."""
    import sys

    from receiver.settings import Settings, SettingsError

    try:
        Settings.from_env()
    except SettingsError as error:
        print(f"receiver: configuration error: {error}", file=sys.stderr)
        sys.exit(4)
