"""The rules file: the shipped default is valid, and a bad file is one line naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from receiver.alerts.rules import DEFAULT_RULES_FILE, RulesError, load_rules, parse_duration
from receiver.records import NewFailure
from receiver.settings import SettingsError
from receiver.vendors import load_settings

MINIMAL = """
version = 1
[channels.hook]
type = "apprise"
urls = ["${HOOK_URL}"]
[[rules]]
name = "all"
channels = ["hook"]
"""


def failure(**overrides):
    return NewFailure(
        **{
            "id": 1,
            "vendor": "zencoder",
            "category": "upload",
            "severity": "error",
            "code": "S3AccessDenied",
            "label": "hls-720",
            "job": "123",
            "backup_server": False,
            "job_id": 1,
            "occurred_at": datetime(2026, 12, 1, tzinfo=UTC),
            **overrides,
        }
    )


def write(tmp_path, text):
    path = tmp_path / "rules.toml"
    path.write_text(text)
    return path


def test_the_default_rules_route_by_category():
    rules = load_rules(DEFAULT_RULES_FILE, environ={"RECEIVER_ALERT_URLS": "json://127.0.0.1/x"})

    def routed(**attributes):
        return [rule.name for rule in rules.route(failure(**attributes))]

    assert routed(category="credentials") == ["act-now"]
    assert routed(category="drm") == ["act-now"]
    assert routed(category="network", backup_server=True) == ["backup-server"]
    assert routed(category="rate_limited") == ["transient"]
    assert rules.by_name["transient"].threshold.count == 10
    assert routed(category="encoding") == ["failures"]
    # Grouped by the rule that never alerts; a warning no rule matches, by the built-in one.
    assert routed(category="ok", severity="info") == ["info"]
    assert routed(category="encoding", severity="warning") == ["unrouted"]
    assert rules.by_name["unrouted"].group_by == ("vendor", "category", "code")
    # PagerDuty is off until its routing key is set; the webhook channel is on.
    assert rules.enabled_channels(rules.by_name["act-now"]) == ("default",)


def test_channels_without_their_secrets_are_disabled():
    rules = load_rules(DEFAULT_RULES_FILE, environ={})
    assert not any(channel.enabled for channel in rules.channels.values())
    # Still routed, so still grouped (triage); only nothing is sent.
    [rule] = rules.route(failure())
    assert rule.name == "act-now" and rules.enabled_channels(rule) == ()


def test_unrouted_is_a_reserved_rule_name(tmp_path):
    path = write(tmp_path, MINIMAL.replace('name = "all"', 'name = "unrouted"'))
    with pytest.raises(RulesError, match=r"rules\[0\] \(name 'unrouted'\)\.name: 'unrouted' is"):
        load_rules(path, environ={})


def test_continue_routes_to_later_rules_too(tmp_path):
    path = write(
        tmp_path,
        MINIMAL.replace(
            '[[rules]]\nname = "all"',
            '[[rules]]\nname = "uploads"\nmatch = { category = "upload", label = "hls-*" }\n'
            'channels = ["hook"]\ncontinue = true\n\n[[rules]]\nname = "all"',
        ),
    )
    rules = load_rules(path, environ={"HOOK_URL": "json://127.0.0.1/x"})
    assert [r.name for r in rules.route(failure())] == ["uploads", "all"]
    assert [r.name for r in rules.route(failure(label="mp4"))] == ["all"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('name = "all"', 'name = "all"\ngroup_wait = "5x"'),
            "rules[0] (name 'all').group_wait: Not a valid duration: '5x'",
        ),
        (
            ('name = "all"', 'name = "all"\nmatch = { category = "uplaod" }'),
            "rules[0] (name 'all').match.category: Unknown value(s) uplaod",
        ),
        (
            ('channels = ["hook"]', 'channels = ["slack"]'),
            "rules[0] (name 'all').channels: Unknown channel(s): slack.",
        ),
        (
            ('name = "all"', 'name = "all"\ngroup_by = ["vendor", "colour"]'),
            "rules[0] (name 'all').group_by[1]: Must be one of",
        ),
        (
            ('name = "all"', 'name = "all"\nthreshold = { count = 0, window = "5m" }'),
            "rules[0] (name 'all').threshold.count: Must be greater than or equal to 1.",
        ),
        (
            ('name = "all"', 'name = "All rules"'),
            "rules[0] (name 'All rules').name: Use a-z, 0-9, _ and -.",
        ),
        (
            ('type = "apprise"', 'type = "pagerduty"'),
            "channels.hook.urls: A pagerduty channel has a routing_key, not urls.",
        ),
        (("version = 1", "version = 2"), "version: Must be equal to 1."),
        (('name = "all"', 'nmae = "all"'), "rules[0].name: Missing data for required field."),
    ],
)
def test_a_bad_rules_file_is_one_line_naming_the_field(tmp_path, change, message):
    path = write(tmp_path, MINIMAL.replace(*change))
    with pytest.raises(RulesError) as raised:
        load_rules(path, environ={})
    assert str(raised.value).startswith(f"{path}: {message}")
    assert "\n" not in str(raised.value)


def test_invalid_toml_and_apprise_urls_are_reported_without_the_secret(tmp_path):
    with pytest.raises(RulesError, match="not valid TOML"):
        load_rules(write(tmp_path, "version = "), environ={})
    with pytest.raises(RulesError) as raised:
        load_rules(write(tmp_path, MINIMAL), environ={"HOOK_URL": "nosuch://token-s3cret@host"})
    assert "channels.hook.urls[0]: not a valid Apprise URL (scheme 'nosuch')" in str(raised.value)
    assert "s3cret" not in str(raised.value)


def test_bad_rules_stop_start_up_as_a_settings_error(tmp_path):
    assert issubclass(RulesError, SettingsError)
    env = {
        "RECEIVER_SECRET_KEY": "k" * 32,
        "RECEIVER_ZENCODER_TOKEN": "t" * 32,
        "RECEIVER_ALERT_RULES": str(tmp_path / "missing.toml"),
    }
    with pytest.raises(SettingsError, match="RECEIVER_ALERT_RULES: no such file"):
        load_settings(env)
    with pytest.raises(SettingsError, match="RECEIVER_PUBLIC_URL must be an http"):
        load_settings({**env, "RECEIVER_ALERT_RULES": "", "RECEIVER_PUBLIC_URL": "receiver"})
    with pytest.raises(SettingsError, match="RECEIVER_ALERT_LEASE_SECONDS"):
        load_settings({**env, "RECEIVER_ALERT_RULES": "", "RECEIVER_ALERT_LEASE_SECONDS": "0"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(minutes=90)),
        ("1d", timedelta(days=1)),
        (45, timedelta(seconds=45)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected
