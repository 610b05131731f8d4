"""A generated request, and the ways to make one that hold for any vendor: a shared token (any
:class:`~receiver.vendors.base.SharedTokenProvider`), or the credentials the vendor's provider
signs with (``sender_headers``) for a vendor whose tests bring no fuzzer of their own.

A request is ``authentic`` only when the vendor itself could have sent it; the properties then
demand it is never a 5xx and that the schema, not the authentication, decided.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from receiver.vendors.base import Provider
from tests.fuzz.strategies import bodies, content_types, dumps, header_text, mutated
from tests.helpers import basic_auth

Bodies = st.SearchStrategy[bytes] | None
# Two in three requests are the vendor's own: forgeries need fewer examples to be refused than
# authentic requests need to explore the schema.
AUTHENTIC = st.sampled_from([True, True, False])


@dataclass
class Attempt:
    """One generated request."""

    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    query: str = ""
    authentic: bool = False
    how: str = ""  # the kind of credential or forgery, for failure reports

    def __repr__(self) -> str:  # bodies run to megabytes: show their start and size
        return (
            f"Attempt({self.path + self.query!r}, {self.how!r}, authentic={self.authentic}, "
            f"headers={self.headers!r}, body[:500]={self.body[:500]!r} ({len(self.body)} bytes))"
        )


@dataclass(frozen=True)
class Fuzzer:
    """How to generate requests to one endpoint: ``attempts(seeds, body)`` where ``seeds`` are
    the endpoint's fixtures (parsed) and ``body`` optionally chooses the bodies; ``body_seeds``
    says what those bodies are (SNS: the messages its envelopes carry)."""

    attempts: Callable[[list[Any], Bodies], st.SearchStrategy[Attempt]]
    body_seeds: Callable[[list[Any]], list[Any]] = lambda seeds: seeds


def with_content_type(headers: dict[str, str], content_type: str | None) -> dict[str, str]:
    return headers if content_type is None else {**headers, "Content-Type": content_type}


def pick(
    draw: st.DrawFn,
    path: str,
    body: bytes,
    authentic: dict[str, dict[str, str]],
    forged: dict[str, dict[str, str]],
) -> Attempt:
    """One of the vendor's own ways to send ``body`` (two in three) or one of the forgeries,
    each named by its key, with any content type."""
    is_authentic = draw(AUTHENTIC)
    kinds = authentic if is_authentic else forged
    how = draw(st.sampled_from(sorted(kinds)))
    headers = with_content_type(kinds[how], draw(content_types))
    return Attempt(path, body, headers, authentic=is_authentic, how=how)


# --- shared token -------------------------------------------------------------------------------


def token_attempts(
    path: str, token: str, other: str, seeds: list[Any], body: Bodies = None
) -> st.SearchStrategy[Attempt]:
    """``other`` is another vendor's token: valid here, but not for this endpoint."""
    authentic = st.sampled_from(
        [
            ("basic", basic_auth(token), ""),
            ("basic-any-user", basic_auth(token, user=""), ""),
            ("header", {"X-Receiver-Token": token}, ""),
            ("query", {}, f"?token={quote(token)}"),
            ("query-and-junk", {}, f"?a=%ff&token={quote(token)}&token=x"),
        ]
    )
    wrong = header_text.filter(lambda text: text.strip() and text != token)
    forged = st.one_of(
        st.just(("missing", {}, "")),
        st.just(("other-vendor", {"X-Receiver-Token": other}, "")),
        st.just(("prefix", {"X-Receiver-Token": token[:-1]}, "")),
        st.just(("suffix", {"X-Receiver-Token": token + "0"}, "")),
        st.just(("upper", {"X-Receiver-Token": token.upper()}, "")),
        st.just(("bearer", {"Authorization": f"Bearer {token}"}, "")),
        st.just(("basic-user-only", basic_auth("", user=token), "")),
        st.just(("basic-garbage", {"Authorization": "Basic !!!not-base64"}, "")),
        st.just(("empty-query", {}, "?token=")),
        wrong.map(lambda w: ("wrong-header", {"X-Receiver-Token": w}, "")),
        wrong.map(lambda w: ("wrong-basic", basic_auth(w), "")),
        wrong.map(lambda w: ("wrong-query", {}, "?token=" + quote(w.encode("latin-1")))),
    )

    body_strategy = bodies(seeds) if body is None else body

    @st.composite
    def attempts(draw: st.DrawFn) -> Attempt:
        body = draw(body_strategy)
        is_authentic = draw(AUTHENTIC)
        how, headers, query = draw(authentic if is_authentic else forged)
        content_type = draw(content_types)
        return Attempt(
            path, body, with_content_type(headers, content_type), query, is_authentic, how
        )

    return attempts()


# --- whatever the provider signs with -------------------------------------------------------------


def signed_attempts(
    path: str, provider: Provider, seeds: list[Any], body: Bodies = None
) -> st.SearchStrategy[Attempt]:
    """The vendor's credentials as its provider makes them (``sender_headers``); forgeries:
    none, credentials made for another body, and each credential cut short or replaced."""
    body_strategy = bodies(seeds) if body is None else body

    @st.composite
    def attempts(draw: st.DrawFn) -> Attempt:
        body = draw(body_strategy)
        good = provider.sender_headers(body)
        other = dumps(draw(mutated(seeds)))
        forgeries = {
            "missing": {},
            "truncated": {name: value[:-2] for name, value in good.items()},
            "garbage": {name: draw(header_text) for name in good},
        }
        replayed = provider.sender_headers(other)
        if replayed != good:  # credentials that depend on the body
            forgeries["replayed"] = replayed
        return pick(draw, path, body, {"signed": good}, forgeries)

    return attempts()
