"""Hostile requests to the KVS endpoint: Standard Webhooks signatures, genuine and forged."""

from __future__ import annotations

import time
from typing import Any

from hypothesis import strategies as st

from tests.fuzz.attempts import Attempt, Bodies, Fuzzer, pick
from tests.fuzz.strategies import bodies, header_text
from tests.vendors.kvs.kit import kvs_signature

# Standard Webhooks message ids are printable ASCII.
WEBHOOK_IDS = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters=","),
    min_size=1,
    max_size=40,
)


def kvs_attempts(real: list[Any], body: Bodies = None) -> st.SearchStrategy[Attempt]:
    body_strategy = bodies(real) if body is None else body

    @st.composite
    def attempts(draw: st.DrawFn) -> Attempt:
        body = draw(body_strategy)
        webhook_id = draw(st.sampled_from(["msg_2f6b7c0e1d2a", "msg_x"]) | WEBHOOK_IDS)
        now = int(time.time())
        good = kvs_signature(webhook_id, now, body)

        def headers(timestamp: int, signature: str, msg_id: str = webhook_id) -> dict[str, str]:
            return {
                "webhook-id": msg_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signature,
            }

        kinds = {
            "signed": headers(now, good),
            "signed-among-others": headers(now, f"v1,AAAA v2,xyz {good}"),
        }
        forgeries = {
            "missing": {},
            "no-signature": {"webhook-id": webhook_id, "webhook-timestamp": str(now)},
            "other-secret": headers(now, kvs_signature(webhook_id, now, body, b"k" * 32)),
            "replayed-old": headers(now - 600, kvs_signature(webhook_id, now - 600, body)),
            "from-the-future": headers(now + 600, kvs_signature(webhook_id, now + 600, body)),
            "other-id": headers(now, good, webhook_id + "0"),
            "other-body": headers(now, kvs_signature(webhook_id, now, body + b" ")),
            "truncated": headers(now, good[:-4]),
            "malformed": headers(now, draw(header_text)),
            "bad-timestamp": headers(0, good) | {"webhook-timestamp": draw(header_text)},
        }
        return pick(draw, "/hooks/kvs", body, kinds, forgeries)

    return attempts()


FUZZERS = {"kvs": Fuzzer(kvs_attempts)}
