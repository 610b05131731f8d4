"""Serve an already-built app with gunicorn from inside ``receiver run``."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from receiver.settings import GUNICORN_THREADS, GUNICORN_TIMEOUT

# The access log shows the path without the query string: a `?token=` must never be logged.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms "%(a)s"'


class EmbeddedServer(BaseApplication):
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    # Flask is a WSGI app; the stubs' start_response type is narrower than the one Flask takes.
    def load(self) -> Flask:  # type: ignore[override]
        return self.application


def serve(app: Flask, bind: str, workers: int) -> None:
    EmbeddedServer(
        app,
        {
            "bind": bind,
            "workers": workers,
            "worker_class": "gthread",
            "threads": GUNICORN_THREADS.default,
            "timeout": GUNICORN_TIMEOUT.default,
            "accesslog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "control_socket_disable": True,
            "child_exit": _forget_dead_worker,
        },
    ).run()


def _forget_dead_worker(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
