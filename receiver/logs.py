"""Logging: one JSON line per request (or readable text in development), request ids, and one
safety net: configured secrets never reach a log line.

Tokens can arrive in a query string (``?token=…``) that the web server logs; rather than trust every
log call site, a handler filter masks the secrets and any ``token=`` value in every record.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterable

from flask import Flask, Response
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from receiver.web_context import current_request, request_globals

REDACTED = "[redacted]"
# A request id we accept from a caller (X-Request-ID): short and log-safe, else we make one.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
request_log = logging.getLogger("receiver.request")
TOKEN_PARAMETER = re.compile(r"(?i)(token=)[^&\s\"']+")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# The record attribute that carries a request line's fields (also set one by one as attributes,
# for whoever reads records rather than lines: pytest's caplog, other handlers).
REQUEST_FIELDS = "request_fields"


def escape_control(text: str) -> str:
    """``text`` with control characters written as ``\\xNN``: a decoded ``%0d%0a`` in a path
    must not start a forged line in a text log."""
    return CONTROL_CHARACTERS.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


class JsonLines(JsonFormatter):
    """python-json-logger's formatter, with the request line (every request writes one) built
    directly: its fields are known, so the scan of the record's attributes for extras and a new
    JSON encoder per line are pure repetition (a third of the line's cost). The output is the
    same line: time, level, name, message, then the fields in order; any other record, or a
    request record carrying an exception, goes through the general path.
    """

    def __init__(self) -> None:
        super().__init__(
            TEXT_FORMAT,
            rename_fields={"asctime": "time", "levelname": "level"},
            reserved_attrs=[*RESERVED_ATTRS, REQUEST_FIELDS],
        )
        self._encode = json.JSONEncoder().encode  # plain str/int/float values: escaped the same
        self._second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, REQUEST_FIELDS, None)
        if fields is None or record.exc_info or record.stack_info:
            return super().format(record)
        line = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "name": record.name,
            "message": record.getMessage(),
        }
        line.update(fields)
        return self._encode(line)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """``logging.Formatter``'s default time, its ``strftime`` made once per second."""
        if datefmt:
            return super().formatTime(record, datefmt)
        second, text = self._second  # one read: threads of a worker share the formatter
        if second != int(record.created):
            second = int(record.created)
            text = time.strftime(self.default_time_format, self.converter(record.created))
            self._second = (second, text)
        return f"{text},{int(record.msecs):03d}"  # as logging.Formatter.default_msec_format


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN_PARAMETER.sub(r"\1" + REDACTED, message)
        for secret in self._secrets:
            redacted = redacted.replace(secret, REDACTED)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(
    secrets: Iterable[str], json_lines: bool = True, level: int = logging.INFO
) -> None:
    """Route all logs through one root handler that carries the redaction filter."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_receiver", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._receiver = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.setLevel(min(root.level or level, level))
    handler.setFormatter(JsonLines() if json_lines else logging.Formatter(TEXT_FORMAT))
    handler.filters = [RedactSecrets(secrets)]
    # Handlers installed by others (gunicorn, pytest's caplog) get the same filter.
    for other in root.handlers:
        if other is not handler and not any(isinstance(f, RedactSecrets) for f in other.filters):
            other.addFilter(RedactSecrets(secrets))


def init_request_logging(app: Flask) -> None:
    """Give every request an id (taken from X-Request-ID when sane) and log one line for it."""
    app.before_request(_start_request)
    app.after_request(_finish_request)


def _start_request() -> None:
    # The objects behind the proxies, once: each proxy lookup searches the context again.
    context = request_globals()
    offered = current_request().headers.get("X-Request-ID", "")
    context.request_id = offered if REQUEST_ID.match(offered) else uuid.uuid4().hex
    context.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    context, handled = request_globals(), current_request()
    response.headers["X-Request-ID"] = context.request_id
    latency_ms = round((time.perf_counter() - context.request_started) * 1000, 2)
    method, path = handled.method, handled.path
    fields = {
        "request_id": context.request_id,
        "method": method,
        "path": path,  # never the query string: it may carry a token
        "status": response.status_code,
        "latency_ms": latency_ms,
    }
    view_args = handled.view_args
    if view_args and "vendor" in view_args:
        fields["vendor"] = view_args["vendor"]
    outcome = context.get("ingest_outcome")
    if outcome is not None:
        fields["outcome"] = outcome
    request_log.info(
        "%s %s %s %.1fms",
        method,
        escape_control(path),
        response.status_code,
        latency_ms,
        extra={**fields, REQUEST_FIELDS: fields},
    )
    return response
