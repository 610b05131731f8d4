"""Hostile requests to Agora's endpoints: HMAC signatures, genuine and forged."""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import strategies as st

from receiver.vendors.agora import API_ERRORS
from tests.fuzz.attempts import Attempt, Bodies, Fuzzer, pick
from tests.fuzz.strategies import bodies, dumps, header_text, mutated
from tests.vendors.agora.kit import agora_signature


def agora_attempts(path: str, real: list[Any], body: Bodies = None) -> st.SearchStrategy[Attempt]:
    body_strategy = bodies(real) if body is None else body

    @st.composite
    def attempts(draw: st.DrawFn) -> Attempt:
        body = draw(body_strategy)
        v2 = agora_signature(body, hashlib.sha256)
        v1 = agora_signature(body, hashlib.sha1)
        other = dumps(draw(mutated(real)))  # a genuine signature, replayed onto another body
        kinds = {
            "v2+v1": {"Agora-Signature-V2": v2, "Agora-Signature": v1},
            "v2": {"Agora-Signature-V2": v2},
            "v1": {"Agora-Signature": v1},
            "v2-upper-spaced": {"Agora-Signature-V2": f" {v2.upper()} "},
        }
        forgeries = {
            "missing": {},
            "other-secret": {"Agora-Signature-V2": agora_signature(body, hashlib.sha256, "x" * 32)},
            "truncated": {"Agora-Signature-V2": v2[:-2]},
            "v1-as-v2": {"Agora-Signature-V2": v1},
            "forged-v2-valid-v1": {"Agora-Signature-V2": "0" * 64, "Agora-Signature": v1},
            "replayed": {
                "Agora-Signature-V2": agora_signature(other, hashlib.sha256),
                "Agora-Signature": agora_signature(other, hashlib.sha1),
            },
            "garbage": {"Agora-Signature-V2": draw(header_text)},
        }
        if other == body:
            del forgeries["replayed"]
        return pick(draw, path, body, kinds, forgeries)

    return attempts()


FUZZERS = {
    endpoint: Fuzzer(
        lambda seeds, body, path=f"/hooks/{endpoint}": agora_attempts(path, seeds, body)
    )
    for endpoint in ("agora", API_ERRORS)
}
