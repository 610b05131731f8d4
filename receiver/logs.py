"""Logging set-up with one safety net: configured secrets never reach a log line.

Tokens can arrive in a query string (``?token=…``) that the web server logs; rather than trust every
log call site, a handler filter masks the secrets and any ``token=`` value in every record.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[redacted]"
TOKEN_PARAMETER = re.compile(r"(?i)(token=)[^&\s\"']+")


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


def configure_logging(secrets: Iterable[str], level: int = logging.INFO) -> None:
    """Route all logs through one root handler that carries the redaction filter."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_receiver", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        handler._receiver = True  # type: ignore[attr-defined]
        root.addHandler(handler)
        root.setLevel(min(root.level or level, level))
    handler.filters = [RedactSecrets(secrets)]
    # Handlers installed by others (gunicorn, pytest's caplog) get the same filter.
    for other in root.handlers:
        if other is not handler and not any(isinstance(f, RedactSecrets) for f in other.filters):
            other.addFilter(RedactSecrets(secrets))
