"""The alert rules file: which failures alert, where, and how they are batched.

A TOML file (``RECEIVER_ALERT_RULES``; ``default_rules.toml`` ships in the package) validated
with marshmallow once at start-up, so a bad edit stops the app with one line naming the field
instead of silently never alerting. Rules are tried in order and the first match wins, unless it
says ``continue = true`` (Alertmanager's routing). A rule without (enabled) channels still groups
the failures it matches, it only tells nobody; failures no rule matches are grouped by the
built-in rule ``unrouted`` with the file's default ``group_by`` (every failure is in a group).

Channel settings may name environment variables as ``${NAME}`` so secrets (webhook URLs,
PagerDuty routing keys) stay out of the file; a channel left empty that way is disabled.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from receiver.catalog import CATEGORIES, SEVERITIES
from receiver.records import NewFailure
from receiver.settings import SettingsError

DEFAULT_RULES_FILE = Path(__file__).with_name("default_rules.toml")
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"

#: What a rule can match on and group by: fields of a new failure (label = its output's label).
MATCH_FIELDS = ("vendor", "category", "severity", "code", "label")
GROUP_FIELDS = (*MATCH_FIELDS, "job")
DEFAULT_GROUP_BY = ("vendor", "category", "code")
#: The built-in rule of failures that no rule matches: grouped, never alerted.
UNROUTED = "unrouted"

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_GLOB = re.compile(r"[*?\[]")


class RulesError(SettingsError):
    """The rules file is missing or invalid; the message is one line naming the field."""


@dataclass(frozen=True)
class Threshold:
    count: int
    window: timedelta


@dataclass(frozen=True)
class Rule:
    name: str
    match: Mapping[str, tuple[str, ...]]
    backup_server: bool | None
    channels: tuple[str, ...]
    group_by: tuple[str, ...]
    group_wait: timedelta
    group_interval: timedelta
    repeat_interval: timedelta
    threshold: Threshold | None
    resolve_after: timedelta | None
    continue_: bool

    def matches(self, failure: NewFailure) -> bool:
        if self.backup_server is not None and failure.backup_server != self.backup_server:
            return False
        for name, patterns in self.match.items():
            value = getattr(failure, name)
            if value is None or not any(fnmatchcase(str(value), p) for p in patterns):
                return False
        return True

    def group_labels(self, failure: NewFailure) -> dict[str, str]:
        return {name: str(getattr(failure, name) or "") for name in self.group_by}

    def fingerprint(self, labels: Mapping[str, str]) -> str:
        """Stable across restarts and processes: it is PagerDuty's dedup_key too."""
        key = json.dumps([self.name, sorted(labels.items())], separators=(",", ":"))
        return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class Channel:
    name: str
    type: str  # apprise | pagerduty
    urls: tuple[str, ...] = ()
    routing_key: str = ""
    events_url: str = PAGERDUTY_EVENTS_URL
    timeout: float = 10.0

    @property
    def enabled(self) -> bool:
        return bool(self.urls) if self.type == "apprise" else bool(self.routing_key)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    channels: Mapping[str, Channel]
    #: Groups the failures no rule matches (see ``UNROUTED``).
    fallback: Rule
    source: str = ""
    by_name: Mapping[str, Rule] = field(init=False)

    def __post_init__(self) -> None:
        by_name = {rule.name: rule for rule in (*self.rules, self.fallback)}
        object.__setattr__(self, "by_name", by_name)

    def route(self, failure: NewFailure) -> list[Rule]:
        """The rules whose groups a failure joins: the first match, and the ones after a
        ``continue``, whether or not their channels are on; the fallback when none matches."""
        routed = []
        for rule in self.rules:
            if rule.matches(failure):
                routed.append(rule)
                if not rule.continue_:
                    break
        return routed or [self.fallback]

    def enabled_channels(self, rule: Rule) -> tuple[str, ...]:
        return tuple(name for name in rule.channels if self.channels[name].enabled)


def parse_duration(value: Any) -> timedelta:
    """``30`` (seconds), ``"30s"``, ``"5m"``, ``"4h"``, ``"1d"``, ``"1h30m"``."""
    if isinstance(value, bool):
        raise ValidationError("Not a valid duration.")
    if isinstance(value, int) and value >= 0:
        return timedelta(seconds=value)
    if isinstance(value, str) and value and (found := _DURATION.match(value.strip())):
        days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    raise ValidationError(f"Not a valid duration: {value!r} (use e.g. 30s, 5m, 4h, 1d).")


class Duration(fields.Field[timedelta]):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> timedelta:
        return parse_duration(value)


class Patterns(fields.Field[tuple[str, ...]]):
    """One value or a list of values; glob patterns (``*``, ``?``, ``[...]``) allowed."""

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> tuple[str, ...]:
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values:
            raise ValidationError("Must be a string or a non-empty list of strings.")
        if not all(isinstance(v, str) and v for v in values):
            raise ValidationError("Every value must be a non-empty string.")
        return tuple(values)


def _known(vocabulary: tuple[str, ...] | list[str]) -> Any:
    """Plain values must come from the vocabulary (a typo would never match); globs are free."""

    def check(values: tuple[str, ...]) -> None:
        unknown = [v for v in values if not _GLOB.search(v) and v not in vocabulary]
        if unknown:
            raise ValidationError(
                f"Unknown value(s) {', '.join(unknown)}; expected one of {', '.join(vocabulary)}."
            )

    return check


class MatchSchema(Schema):
    class Meta:
        unknown = RAISE

    vendor = Patterns()
    category = Patterns(validate=_known(list(CATEGORIES)))
    severity = Patterns(validate=_known(SEVERITIES))
    code = Patterns()
    label = Patterns()
    backup_server = fields.Boolean()


class ThresholdSchema(Schema):
    class Meta:
        unknown = RAISE

    count = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    window = Duration(required=True)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Threshold:
        return Threshold(**data)


_GROUP_BY = fields.List(
    fields.String(validate=validate.OneOf(GROUP_FIELDS)), validate=validate.Length(min=1)
)


class DefaultsSchema(Schema):
    class Meta:
        unknown = RAISE

    group_by = _GROUP_BY
    group_wait = Duration()
    group_interval = Duration()
    repeat_interval = Duration()
    resolve_after = Duration()


class RuleSchema(DefaultsSchema):
    name = fields.String(
        required=True,
        validate=[
            validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$", error="Use a-z, 0-9, _ and -."),
            validate.NoneOf(
                [UNROUTED], error="'unrouted' is the built-in rule of unmatched failures."
            ),
        ],
    )
    match = fields.Nested(MatchSchema, load_default=dict)
    channels = fields.List(fields.String(), required=True)
    threshold = fields.Nested(ThresholdSchema, load_default=None)
    continue_ = fields.Boolean(data_key="continue", load_default=False)


class ChannelSchema(Schema):
    class Meta:
        unknown = RAISE

    type = fields.String(required=True, validate=validate.OneOf(["apprise", "pagerduty"]))
    urls = fields.List(fields.String(), load_default=list)
    routing_key = fields.String(load_default="")
    events_url = fields.Url(load_default=PAGERDUTY_EVENTS_URL, schemes={"http", "https"})
    timeout = fields.Float(load_default=10.0, validate=validate.Range(min=0.1, max=60))

    @validates_schema
    def check_type_fields(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["type"] == "apprise" and data["routing_key"]:
            raise ValidationError("Only a pagerduty channel has a routing_key.", "routing_key")
        if data["type"] == "pagerduty" and data["urls"]:
            raise ValidationError("A pagerduty channel has a routing_key, not urls.", "urls")


class RulesFileSchema(Schema):
    class Meta:
        unknown = RAISE

    version = fields.Integer(required=True, validate=validate.Equal(1))
    defaults = fields.Nested(DefaultsSchema, load_default=dict)
    channels = fields.Dict(
        keys=fields.String(validate=validate.Regexp(r"^[a-z0-9][a-z0-9_-]{0,63}$")),
        values=fields.Nested(ChannelSchema),
        load_default=dict,
    )
    rules = fields.List(fields.Nested(RuleSchema), required=True)

    @validates_schema
    def check_references(self, data: dict[str, Any], **kwargs: Any) -> None:
        seen: set[str] = set()
        errors: dict[int, Any] = {}
        for index, rule in enumerate(data["rules"]):
            if rule["name"] in seen:
                errors[index] = {"name": [f"Rule {rule['name']!r} is defined twice."]}
            seen.add(rule["name"])
            unknown = [name for name in rule["channels"] if name not in data["channels"]]
            if unknown:
                errors[index] = {"channels": [f"Unknown channel(s): {', '.join(unknown)}."]}
        if errors:
            raise ValidationError({"rules": errors})


def load_rules(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> RuleSet:
    """Read, validate and build the rules; raise :class:`RulesError` with one line."""
    path = Path(path) if path else DEFAULT_RULES_FILE
    env = os.environ if environ is None else environ
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RulesError(f"{path}: cannot read the rules file: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise RulesError(f"{path}: not valid TOML: {error}") from None
    try:
        data = RulesFileSchema().load(raw)
    except ValidationError as error:
        raise RulesError(f"{path}: {_first_error(error.messages, raw)}") from None
    channels = {name: _channel(name, spec, env, path) for name, spec in data["channels"].items()}
    defaults = data["defaults"]
    rules = tuple(_rule(spec, defaults) for spec in data["rules"])
    fallback = _rule(
        {"name": UNROUTED, "match": {}, "channels": [], "threshold": None, "continue_": False},
        defaults,
    )
    return RuleSet(rules=rules, channels=channels, fallback=fallback, source=str(path))


def _rule(spec: dict[str, Any], defaults: dict[str, Any]) -> Rule:
    def pick(name: str, fallback: Any) -> Any:
        return spec.get(name, defaults.get(name, fallback))

    match = dict(spec["match"])
    backup_server = match.pop("backup_server", None)
    return Rule(
        name=spec["name"],
        match=match,
        backup_server=backup_server,
        channels=tuple(spec["channels"]),
        group_by=tuple(pick("group_by", DEFAULT_GROUP_BY)),
        group_wait=pick("group_wait", timedelta(seconds=30)),
        group_interval=pick("group_interval", timedelta(minutes=5)),
        repeat_interval=pick("repeat_interval", timedelta(hours=4)),
        threshold=spec["threshold"],
        resolve_after=pick("resolve_after", None),
        continue_=spec["continue_"],
    )


def _channel(name: str, spec: dict[str, Any], env: Mapping[str, str], path: Path) -> Channel:
    def expand(value: str) -> str:
        return _ENV.sub(lambda found: env.get(found.group(1), ""), value).strip()

    # One setting may hold several URLs (RECEIVER_ALERT_URLS="slack://… mailto://…").
    urls = tuple(url for value in spec["urls"] for url in expand(value).split())
    if spec["type"] == "apprise":
        import apprise

        for index, url in enumerate(urls):
            if not apprise.Apprise().add(url):
                # The URL is not echoed: it usually carries a token.
                raise RulesError(
                    f"{path}: channels.{name}.urls[{index}]: not a valid Apprise URL "
                    f"(scheme {url.split(':', 1)[0]!r})"
                )
    return Channel(
        name=name,
        type=spec["type"],
        urls=urls,
        routing_key=expand(spec["routing_key"]),
        events_url=spec["events_url"],
        timeout=spec["timeout"],
    )


def _first_error(messages: Any, raw: Any, path: str = "") -> str:
    """Marshmallow's nested error dict -> ``rules[2] (name "x").group_wait: message``."""
    if isinstance(messages, list):
        if messages and isinstance(messages[0], str):
            return f"{path or 'file'}: {messages[0]}"
        messages = dict(enumerate(messages))
    key, inner = next(iter(messages.items()))
    if key in ("key", "value") and path.startswith("channels."):
        # A Dict field nests its errors under "key"/"value"; the channel's name says enough.
        return _first_error(inner, raw, path if key == "value" else f"{path} (name)")
    if isinstance(key, int):
        label = f"{path}[{key}]"
        item = raw[key] if isinstance(raw, list) and key < len(raw) else None
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            label += f" (name {item['name']!r})"
        child = item
    else:
        label = f"{path}.{key}" if path else str(key)
        child = raw.get(key) if isinstance(raw, dict) else None
    return _first_error(inner, child, label)
