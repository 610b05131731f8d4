"""Serve an already-built app with gunicorn from inside ``receiver run``."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from receiver.logs import escape_control
from receiver.settings import GUNICORN_TIMEOUT

# The access log shows the path without the query string: a `?token=` must never be logged.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms "%(a)s"'


class AccessLogger(Logger):
    """gunicorn's logger, with control characters in every access-log value escaped.

    ``%(U)s`` is the decoded path: ``/x%0d%0aforged`` would otherwise end the line and start a
    forged one (headers such as the user agent cannot hold CR/LF, but may hold other controls).
    gunicorn.conf.py names it as ``logger_class``.
    """

    def atoms(  # type: ignore[override]  # the stubs' _AtomsDict is private to them
        self, resp: Any, req: Any, environ: Any, request_time: Any
    ) -> dict[str, Any]:
        return {
            name: escape_control(value) if isinstance(value, str) else value
            for name, value in super().atoms(resp, req, environ, request_time).items()
        }


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


def serve(app: Flask, bind: str, workers: int, threads: int) -> None:
    EmbeddedServer(
        app,
        {
            "bind": bind,
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": GUNICORN_TIMEOUT.default,
            "accesslog": "-",
            "access_log_format": ACCESS_LOG_FORMAT,
            "logger_class": AccessLogger,
            "control_socket_disable": True,
            "child_exit": _forget_dead_worker,
        },
    ).run()


def _forget_dead_worker(_server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
