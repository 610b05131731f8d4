"""Rate limits that count across requests, and where they count.

Both limits of the receiver, the admin's failed-login throttle and the bound on refused
notifications one sender may leave in the database, count in one `limits` storage chosen by
``RECEIVER_LIMITER_STORAGE``: ``memory://`` counts per process (each gunicorn worker on its
own), ``redis://host:6379`` counts once for every process and host that uses it.
"""

from __future__ import annotations

import logging
from typing import cast

from flask import Flask, current_app
from limits import parse as parse_rate_limit
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from receiver.settings import Settings

log = logging.getLogger(__name__)


def init_throttles(app: Flask, settings: Settings) -> None:
    # wrap_exceptions: an unreachable Redis raises limits' StorageError, which the limits
    # below survive (a limit that cannot count must not turn requests into 500s).
    storage = storage_from_string(settings.limiter_storage, wrap_exceptions=True)
    assert isinstance(storage, Storage)  # a synchronous storage: we are no asyncio app
    app.extensions["limiter_storage"] = storage
    app.extensions["refusal_limit"] = RefusalLimit(storage, settings.refused_limit)


def limiter_storage(app: Flask) -> Storage:
    return cast(Storage, app.extensions["limiter_storage"])


class RefusalLimit:
    """Refused notifications stored per sender address and endpoint (``RECEIVER_REFUSED_LIMIT``).

    Only refusals of unauthenticated requests count: whoever holds no secret can otherwise
    fill the disk at network speed. Past the limit a refusal gets the same answer but is only
    counted (``receiver_refusals_not_stored_total``), not stored.
    """

    SCOPE = "refused"

    def __init__(self, storage: Storage, rate: str) -> None:
        self.limit = parse_rate_limit(rate)
        self.window = MovingWindowRateLimiter(storage)

    def allows(self, endpoint: str, address: str | None) -> bool:
        """Count one refusal of ``address`` at ``endpoint``; False once over the limit.

        When the storage cannot be reached the refusal is stored (bounded, as always): the
        evidence is kept, and the outage is in the log.
        """
        try:
            return self.window.hit(self.limit, self.SCOPE, endpoint, address or "unknown")
        except StorageError as error:
            log.warning("refusal limit not counted: limiter storage unavailable (%s)", error)
            return True


def refusal_limit() -> RefusalLimit:
    return cast(RefusalLimit, current_app.extensions["refusal_limit"])
