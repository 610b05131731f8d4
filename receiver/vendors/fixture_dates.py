"""Where a vendor's payloads carry the vendor's clock, and moving those times to now.

The fixtures (``fixtures/<vendor>/``) happened in 2011 or 2024. ``receiver send-test`` sends
them as if they happened now, so that a trial's failure is listed under today's date, where the
admin's chart and the alert say it is. Each vendor folder declares where its times are
(:class:`FixtureDates`); every declared time in a payload moves by the same amount, the latest
to now, so their order and the gaps between them stay. Ids do not move: sent twice, a fixture
is a resend of the same event, which the receiver recognises as a duplicate.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from xml.etree.ElementTree import Element, tostring

from defusedxml.ElementTree import fromstring

#: An ISO 8601 time as vendors write it: ``2024-05-14T10:02:47Z``, ``…06:32:00.123+0000``.
ISO_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})(?P<sep>[T ])(?P<time>\d{2}:\d{2}:\d{2})"
    r"(?P<fraction>\.\d{1,6})?(?P<offset>Z|[+-]\d{2}:?\d{2})?"
)

#: A time's new value, given how far times move.
Move = Callable[[timedelta], Any]


@dataclass(frozen=True)
class FixtureDates:
    """Where a vendor's payloads carry its clock. Keys match at any depth: in JSON objects, in
    JSON held in a string (an SNS message), and as XML element names."""

    #: Keys whose values are ISO 8601 times.
    iso: tuple[str, ...] = ()
    #: Keys whose values count from the Unix epoch, with their units per second (1 for
    #: seconds, 1000 for milliseconds).
    epoch: tuple[tuple[str, int], ...] = ()
    #: URL query parameters holding epoch seconds (a pre-signed URL's ``Expires``): deadlines
    #: that move with the times but do not decide how far they move.
    url_epoch_seconds: tuple[str, ...] = ()

    def moved(self, body: bytes, now: datetime, xml: bool = False) -> bytes:
        """``body`` with its latest declared time at ``now`` (to the second) and every other
        one moved as far; unchanged if it has none or cannot be read."""
        if not (self.iso or self.epoch):
            return body
        try:
            document = _Xml(body, self) if xml else _Json(body, self)
        except (ValueError, SyntaxError):  # not this format: sent as it is
            return body
        times = [time for time, _move in document.times()]
        if not times:
            return body
        distance = timedelta(seconds=math.floor((now - max(times)).total_seconds()))
        return document.moved_by(distance)

    # --- reading one value -------------------------------------------------------------------

    def time_of(self, key: str, value: Any) -> tuple[datetime, Move] | None:
        """The time ``value`` under ``key`` says, and how to write it moved; None if it is
        not a declared time."""
        if key in self.iso and isinstance(value, str):
            return _iso_time(value)
        units = dict(self.epoch).get(key)
        if units and isinstance(value, int | float) and not isinstance(value, bool):
            return _epoch_time(value, units)
        return None

    def moved_urls(self, text: str, distance: timedelta) -> str:
        """``text`` with the declared URL parameters' epoch seconds moved."""
        for name in self.url_epoch_seconds:
            text = re.sub(
                rf"([?&]{re.escape(name)}=)(\d{{1,12}})",
                lambda found: found[1] + str(int(found[2]) + int(distance.total_seconds())),
                text,
            )
        return text


def _iso_time(text: str) -> tuple[datetime, Move] | None:
    found = ISO_TIME.fullmatch(text)
    if found is None:
        return None
    offset = found["offset"] or ""
    zone: timezone = UTC
    if offset not in ("", "Z"):
        sign = -1 if offset[0] == "-" else 1
        hours, minutes = int(offset[1:3]), int(offset[-2:])
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    fraction = found["fraction"] or ""
    try:
        local = datetime.fromisoformat(f"{found['date']}T{found['time']}").replace(
            microsecond=int(fraction[1:].ljust(6, "0")) if fraction else 0, tzinfo=zone
        )
    except ValueError:  # 2024-13-45
        return None

    def write(distance: timedelta) -> str:
        # In the offset it was written in, with as many fraction digits.
        moved = local + distance
        text = f"{moved:%Y-%m-%d}{found['sep']}{moved:%H:%M:%S}"
        if fraction:
            text += "." + f"{moved.microsecond:06d}"[: len(fraction) - 1]
        return text + offset

    return local.astimezone(UTC), write


def _epoch_time(value: float, units: int) -> tuple[datetime, Move] | None:
    try:
        time = datetime.fromtimestamp(value / units, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None

    def write(distance: timedelta) -> float:
        moved = value + distance.total_seconds() * units
        return round(moved) if isinstance(value, int) else moved

    return time, write


class _Json:
    """A JSON document; strings holding JSON (an SNS envelope's message) are read too."""

    def __init__(self, body: bytes, dates: FixtureDates) -> None:
        self.data = json.loads(body)
        self.dates = dates

    def times(self) -> list[tuple[datetime, Move]]:
        return list(self._times(self.data))

    def _times(self, value: Any, key: str = "") -> Iterator[tuple[datetime, Move]]:
        if (found := self.dates.time_of(key, value)) is not None:
            yield found
        elif isinstance(value, dict):
            for name, item in value.items():
                yield from self._times(item, name)
        elif isinstance(value, list):
            for item in value:
                yield from self._times(item, key)
        elif (inner := _json_in(value)) is not None:
            yield from self._times(inner)

    def moved_by(self, distance: timedelta) -> bytes:
        moved = self._moved(self.data, distance)
        return (json.dumps(moved, indent=2, ensure_ascii=False) + "\n").encode()

    def _moved(self, value: Any, distance: timedelta, key: str = "") -> Any:
        if (found := self.dates.time_of(key, value)) is not None:
            return found[1](distance)
        if isinstance(value, dict):
            return {name: self._moved(item, distance, name) for name, item in value.items()}
        if isinstance(value, list):
            return [self._moved(item, distance, key) for item in value]
        if (inner := _json_in(value)) is not None:
            moved = self._moved(inner, distance)
            # Rewritten only if a time in it moved: otherwise the text stays byte for byte.
            if moved != inner:
                return json.dumps(moved, separators=(",", ":"), ensure_ascii=False)
            return value
        if isinstance(value, str):
            return self.dates.moved_urls(value, distance)
        return value


def _json_in(value: Any) -> Any:
    """The JSON object or array a string holds, or None."""
    if not isinstance(value, str) or not value.lstrip().startswith(("{", "[")):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


class _Xml:
    """An XML document (Zencoder's ``"format": "xml"``): elements named like a declared key."""

    def __init__(self, body: bytes, dates: FixtureDates) -> None:
        self.root: Element = fromstring(body)
        self.dates = dates

    def times(self) -> list[tuple[datetime, Move]]:
        return [found for _element, found in self._found()]

    def _found(self) -> Iterator[tuple[Element, tuple[datetime, Move]]]:
        for element in self.root.iter():
            text = (element.text or "").strip()
            value: Any = int(text) if text.isdigit() else text
            if (found := self.dates.time_of(element.tag, value)) is not None:
                yield element, found

    def moved_by(self, distance: timedelta) -> bytes:
        for element, (_time, write) in list(self._found()):
            element.text = str(write(distance))
        for element in self.root.iter():
            if element.text:
                element.text = self.dates.moved_urls(element.text, distance)
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(self.root) + b"\n"
