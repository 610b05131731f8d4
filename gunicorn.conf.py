"""Production gunicorn settings: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment (GUNICORN_*) or the command line.
"""

import os
import shutil
import tempfile

from receiver.settings import GUNICORN_BIND, GUNICORN_TIMEOUT, server_shape

# Prometheus multiprocess mode: every worker writes its metrics to files in this folder and
# /metrics aggregates them. It must be set before any worker imports prometheus_client.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="receiver-metrics-")

bind = os.environ.get(GUNICORN_BIND.variable) or GUNICORN_BIND.default
# 2 workers x 4 threads, or 1 x 8 on SQLite (one writer at a time: see server_shape).
workers, threads = server_shape(os.environ)
worker_class = "gthread"
# A request stuck longer than this is killed; vendors retry, and nothing is acknowledged unstored.
timeout = int(os.environ.get(GUNICORN_TIMEOUT.variable) or GUNICORN_TIMEOUT.default)
graceful_timeout = 20
keepalive = 5
accesslog = "-"
# %(U)s is the path without the query string, so a `?token=` never reaches the log; the logger
# escapes control characters (a decoded %0d%0a in the path would start a forged line).
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms "%(a)s"'
logger_class = "receiver.server.AccessLogger"


def on_starting(server):
    """Check the settings once in the master, so a bad one is one line, not a worker crash loop."""
    import sys

    from receiver.catalog import CatalogError
    from receiver.settings import SettingsError
    from receiver.vendors import build_providers, default_catalog, load_settings

    # Metrics files of a previous run would be counted again.
    metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(metrics_dir, ignore_errors=True)
    os.makedirs(metrics_dir, exist_ok=True)

    try:
        # The endpoints too: a local trial's SNS stand-in key refuses a server start.
        build_providers(load_settings(), default_catalog())
    except (SettingsError, CatalogError) as error:
        print(f"receiver: configuration error: {error}", file=sys.stderr)
        sys.exit(4)


def child_exit(server, worker):
    """A dead worker's live gauges must not be reported forever."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
