"""Every hook endpoint as a hostile sender sees it, found through the vendor registry: real
payloads to start from (the fixtures each vendor routes to the endpoint), how to make a request
the receiver must accept as the vendor's (``authentic``), and every way to fake one.

An endpoint's requests come from its vendor's fuzzer (``tests/vendors/<name>/fuzz.py``,
``FUZZERS``) if it has one; otherwise from what its provider is: a shared token, or whatever
credentials the provider signs with. A new vendor needs no edit here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import partial

from hypothesis import strategies as st

from receiver.vendors import VENDORS
from receiver.vendors.base import Provider, SharedTokenProvider
from tests.fuzz.attempts import Attempt, Bodies, Fuzzer, signed_attempts, token_attempts
from tests.vendors.kits import json_seeds, providers

#: Every endpoint the test environment enables, with its provider.
PROVIDERS = providers()


def _vendor_fuzzers() -> dict[str, Fuzzer]:
    fuzzers: dict[str, Fuzzer] = {}
    for vendor in VENDORS:
        name = f"tests.vendors.{vendor.name}.fuzz"
        try:
            fuzzers |= importlib.import_module(name).FUZZERS
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
    return fuzzers


def _token(provider: Provider) -> str:
    return provider.sender_headers(b"")["X-Receiver-Token"]


def _default_fuzzer(endpoint: str, provider: Provider) -> Fuzzer:
    path = f"/hooks/{endpoint}"
    if isinstance(provider, SharedTokenProvider):
        others = [_token(p) for p in PROVIDERS.values() if isinstance(p, SharedTokenProvider)]
        other = next((t for t in others if t != _token(provider)), "another-vendors-token-0123")
        return Fuzzer(partial(token_attempts, path, _token(provider), other))
    return Fuzzer(partial(signed_attempts, path, provider))


_FUZZERS = _vendor_fuzzers()
FUZZERS = {
    endpoint: _FUZZERS.get(endpoint) or _default_fuzzer(endpoint, provider)
    for endpoint, provider in PROVIDERS.items()
}

#: The real payloads each endpoint's bodies start from (for SNS: the messages it carries).
SEEDS = {endpoint: fuzzer.body_seeds(json_seeds(endpoint)) for endpoint, fuzzer in FUZZERS.items()}

#: Each endpoint's attempts, optionally with bodies of the caller's choosing.
ENDPOINTS: dict[str, Callable[[Bodies], st.SearchStrategy[Attempt]]] = {
    endpoint: partial(fuzzer.attempts, json_seeds(endpoint)) for endpoint, fuzzer in FUZZERS.items()
}
