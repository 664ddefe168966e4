"""Broker URLs and node names: the parts of the configuration with rules of their own."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agent.settings.config import load_agent_config
from agent.shared.errors import ConfigError, SwarmgaugeError
from agent.shared.settings.broker_url import BrokerUrl, parse_broker_url
from agent.shared.wire.names import safe_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mqtt://localhost", BrokerUrl("localhost", 1883)),
        ("mqtt://10.0.0.5:1884", BrokerUrl("10.0.0.5", 1884)),
        ("mqtts://broker.local", BrokerUrl("broker.local", 8883, tls=True)),
        (
            "mqtt://pi:s%40cret@gauge:1883",
            BrokerUrl("gauge", 1883, username="pi", password="s@cret"),
        ),
        ("mqtt://pi@gauge", BrokerUrl("gauge", 1883, username="pi")),
    ],
)
def test_broker_urls(text: str, expected: BrokerUrl) -> None:
    assert parse_broker_url(text) == expected


def test_broker_none_turns_mqtt_off() -> None:
    assert parse_broker_url("none") is None
    assert parse_broker_url("NONE") is None


@pytest.mark.parametrize(
    "text",
    ["http://x", "mqtt://", "mqtt://h:0", "mqtt://h:70000", "mqtt://h/topic", "localhost:1883"],
)
def test_malformed_broker_urls(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_broker_url(text)


def test_password_never_shows_in_str_or_repr() -> None:
    url = parse_broker_url("mqtt://pi:hunter2@gauge")
    assert url is not None
    assert "hunter2" not in str(url) and "hunter2" not in repr(url)
    assert str(url) == "mqtt://pi@gauge:1883"


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("pi-zero-1", "pi-zero-1"),
        ("pi zero/1", "pi_zero_1"),
        ("a+b#c", "a_b_c"),
        ("node.local", "node_local"),
        ("///", "node"),
        ("", "node"),
        ("x" * 100, "x" * 64),
    ],
)
def test_safe_name(raw: str, safe: str) -> None:
    assert safe_name(raw) == safe


def test_config_error_is_a_swarmgauge_error_and_a_value_error() -> None:
    with pytest.raises(ConfigError) as info:
        load_agent_config(["--interval", "0"], {})
    assert isinstance(info.value, SwarmgaugeError) and isinstance(info.value, ValueError)


def test_defaults_serve_a_workshop() -> None:
    config = load_agent_config([], {})
    assert config.interval_s == 5.0 and config.brightness == 0.1 and config.display == "auto"
    assert config.mqtt.broker == BrokerUrl("localhost", 1883)
    assert config.docker_host == "unix:///var/run/docker.sock" and config.capacity == 4
    assert config.stack == "swarmgauge"
    assert load_agent_config(["--stack", "none"], {}).stack is None  # every task is strain
    assert load_agent_config([], {"SWARMGAUGE_STACK": "gauge2"}).stack == "gauge2"
    assert load_agent_config([], {"DOCKER_HOST": "tcp://127.0.0.1:2375"}).docker_host == (
        "tcp://127.0.0.1:2375"
    )


def test_a_broker_url_is_shown_in_an_error_only_where_it_can_hold_no_password() -> None:
    from agent.shared.settings.options import shows_no_secret

    assert shows_no_secret("ftp//localhost") and shows_no_secret("mqtts://broker.local")
    for text in ("mqtt://u:pw@h", "u:pw@h", "mqtt:u:pw@h", "mqtt:\\\\u:pw@h", "mqtt://u:pw",
                 "mqtt://h:99999", "mqtt://u:p\nw@h", "mqtt://u@h"):  # fmt: skip
        assert not shows_no_secret(text), text


# the forms a password has been seen to leak through, and well-formed ones
BROKER_FORMS = [
    "mqtt://{user}:{pw}@{host}:{port}",
    "mqtts://{user}:{pw}@{host}",
    "{user}:{pw}@{host}:{port}",
    "mqtt:/{user}:{pw}@{host}",
    "mqtt:{user}:{pw}@{host}",
    "mqtt:\\\\{user}:{pw}@{host}",
    "mqtt://{user}/x:{pw}@{host}",
    "mqtt://{user}@x:{pw}@{host}:{port}",
    "mqtt://{user}:{pw}@{host}/path?q=1",
    "mqtt://{user}:{pw}",
    " mqtt://{user}:{pw}@{host} ",
]


@settings(max_examples=400, deadline=None)
@given(
    form=st.sampled_from(BROKER_FORMS),
    user=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
    secret=st.text(st.characters(blacklist_categories=("Cs",)), min_size=4, max_size=16),
    host=st.sampled_from(["broker", "10.0.0.1", "h", "[::1]", ""]),
    port=st.sampled_from(["1883", "0", "99999", "-1", "x", ""]),
    via_env=st.booleans(),
)
def test_no_broker_url_shows_its_password_in_any_line(
    form: str, user: str, secret: str, host: str, port: str, via_env: bool
) -> None:
    """A password in --broker (or SWARMGAUGE_BROKER), however malformed the URL, never
    shows in the one-line error, nor in the URL as the logs print it."""
    from gauge.config import load_gauge_config

    password = f"PW{secret}Z"
    url = form.format(user=user, pw=password, host=host, port=port)
    argv, env = ([], {"SWARMGAUGE_BROKER": url}) if via_env else (["--broker", url], {})
    for load in (load_agent_config, load_gauge_config):
        try:
            shown = str(load(argv, env).mqtt.broker)  # type: ignore[attr-defined]
        except ConfigError as exc:
            shown = str(exc)
        assert password not in shown, shown
        assert "\n" not in shown
