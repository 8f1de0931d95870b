"""The option rows both gateways share, and their shared load and validation steps."""

from __future__ import annotations

import pytest

from rsdev_servers.common.options import (
    SHARED_OPTIONS,
    check_gateway_settings,
    load_gateway_options,
    shared_option,
)
from rsdev_servers.common.settings import GatewayArgumentParser, Option, SettingsError, add_options

OPTIONS = (
    Option("config", "config file", in_config=False),
    Option("demo", "simulator", switch=True),
    shared_option("host"),
    shared_option("port", default=9999),
    shared_option("auth_token"),
    shared_option("upstream_ws", default="ws://127.0.0.1:9/"),
)


def _load(argv: list[str], environ: dict[str, str]) -> dict[str, object]:
    parser = GatewayArgumentParser(prog="gw")
    add_options(parser, OPTIONS, env_prefix="GW_")
    values, _, _ = load_gateway_options(
        parser,
        OPTIONS,
        env_prefix="GW_",
        config_section="gw",
        upstream_urls=("upstream_ws",),
        argv=argv,
        environ=environ,
    )
    return values


def test_shared_option_keeps_the_row_and_applies_changes() -> None:
    """A gateway's change (default, help) is applied; the shared row itself is untouched."""
    port = shared_option("port", default=9999, help="other")
    assert (9999, "other") == (port.default, port.help)
    assert SHARED_OPTIONS["port"].default is None
    assert SHARED_OPTIONS["host"] is shared_option("host")


def test_load_resolves_flags_env_and_normalises() -> None:
    """Flag > environment; `config` is dropped, demo is a bool, an empty token is None."""
    values = _load(["--port", "1234"], {"GW_PORT": "5", "GW_HOST": "127.0.0.2"})
    assert {"host": "127.0.0.2", "port": 1234, "auth_token": None, "demo": False} == {
        k: values[k] for k in ("host", "port", "auth_token", "demo")
    }
    assert "config" not in values


def test_demo_next_to_an_upstream_url_is_refused() -> None:
    """--demo runs its own simulator: an explicit upstream URL is a one-line error."""
    with pytest.raises(SettingsError, match="--upstream-ws"):
        _load(["--demo"], {"GW_UPSTREAM_WS": "ws://127.0.0.1:1/"})


class _Settings:
    def __init__(self, host: str, token: str | None, budget: int, buffer: int) -> None:
        self.host, self.auth_token = host, token
        self.memory_budget, self.max_client_buffer = budget, buffer


def test_check_gateway_settings() -> None:
    """A wildcard bind needs a token; a client buffer larger than the budget is refused."""
    check_gateway_settings(_Settings("127.0.0.1", None, 10, 10))
    with pytest.raises(SettingsError):
        check_gateway_settings(_Settings("0.0.0.0", None, 10, 10))
    with pytest.raises(SettingsError, match="--max-client-buffer"):
        check_gateway_settings(_Settings("127.0.0.1", None, 10, 11))


def test_gateway_settings_build_the_engine_knobs() -> None:
    """Manager settings and client limits come from the shared fields; burst is twice the
    rate; a cluster leader's per-node client limit and a gateway's extra limits apply."""
    from rsdev_servers.common.options import GatewaySettings

    settings = GatewaySettings(linger=1.5, max_symbols_per_client=7, max_ops_per_second=3.0)
    manager = settings.manager_settings()
    assert (1.5, 7, 1000) == (manager.linger, manager.client_limit, manager.global_limit)
    assert 99 == settings.manager_settings(client_limit=99).client_limit
    limits = settings.client_limits(max_errors=5)
    assert (3.0, 6.0, 5, 5000) == (
        limits.ops_per_second,
        limits.burst,
        limits.max_errors,
        limits.max_clients,
    )
