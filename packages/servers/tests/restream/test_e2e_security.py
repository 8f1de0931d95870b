"""Start-up refusals and the auth token / Origin checks of a real restream process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from rsdev_servers.restream.cli import main

from ..conftest import (
    RestreamProcess,
    clean_env,
    is_type,
    next_json,
    open_client,
    wait_for,
)

TOKEN = "test-token-0123456789abcdef"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rsdev_servers.restream", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env if env is not None else clean_env(),
        check=False,
    )


@pytest.mark.slow
def test_non_loopback_without_token_refuses_to_start() -> None:
    """`--host 0.0.0.0` without a token: exit 2, one clear line, nothing printed on stdout."""
    result = _run("--host", "0.0.0.0", "--port", "0", "--demo")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "refusing to listen on 0.0.0.0 without an auth token" in lines[0]


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("--port", "http"), {}, "--port: not a port number"),
        (("--memory-budget", "lots"), {}, "--memory-budget: not a size"),
        ((), {"RESTREAM_PORT": "99999"}, "RESTREAM_PORT: a port is between"),
        (("--auth-token", "hunter2"), {}, "at least 16 characters"),
        (("--demo", "--upstream-ws", "ws://127.0.0.1:1/"), {}, "--demo runs its own"),
        (("--nope",), {}, "unrecognized arguments: --nope"),
    ],
)
def test_bad_values_are_one_line_and_exit_2(
    args: tuple[str, ...], env: dict[str, str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad flag, environment value or token: exit 2 and one line naming it (in-process)."""
    try:
        code = main(list(args), env)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert expected in lines[0]
    assert "hunter2" not in err


@pytest.mark.slow
def test_port_in_use_exits_3() -> None:
    """A port already taken: exit 3 with one line saying so."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run("--demo", "--port", str(port))
    assert result.returncode == 3, result.stderr
    assert f"cannot listen on 127.0.0.1:{port}: the address is already in use" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    """--help exits 0 and names the environment variables and exit codes."""
    with pytest.raises(SystemExit) as info:
        main(["--help"], {})
    assert info.value.code == 0
    out = capsys.readouterr().out
    for text in ("--auth-token", "RESTREAM_AUTH_TOKEN", "--max-frame-bytes", "Exit codes"):
        assert text in out


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestreamProcess]:
    """One `restream --demo` with an auth token and one extra allowed origin."""
    process = RestreamProcess(
        ["--demo", "--allow-origin", "http://dash.example:9000"],
        tmp_path_factory.mktemp("secured") / "restream.log",
        env=clean_env(RESTREAM_AUTH_TOKEN=TOKEN),
    )
    yield process
    process.stop()


@pytest.mark.anyio
@pytest.mark.slow
async def test_token_required_on_websocket_and_http(secured: RestreamProcess) -> None:
    """With a token: no token → 401 (HTTP), and the WS handshake refused with 401 and a
    Bearer challenge; with it → served; /health needs none."""
    async with httpx.AsyncClient(base_url=secured.url, timeout=10) as http:
        assert (await http.get("/health")).status_code == 200
        for path in ("/metrics", "/snapshot", "/"):
            assert (await http.get(path)).status_code == 401, path
        assert (await http.get("/metrics", params={"token": "wrong" * 4})).status_code == 401
        assert (await http.get("/metrics", params={"token": TOKEN})).status_code == 200
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert (await http.get("/snapshot", headers=bearer)).status_code == 200

    wrong = {"Authorization": "Bearer " + "x" * 20}
    for headers in ({}, wrong):
        with pytest.raises(InvalidStatus) as refused:
            await open_client(secured.ws_url, additional_headers=headers)
        response = refused.value.response
        assert 401 == response.status_code
        assert 'Bearer realm="restream"' == response.headers["WWW-Authenticate"]
        assert "unauthorized" == json.loads(response.body)["error"]

    async with await open_client(secured.ws_url + f"?token={TOKEN}") as ws:
        assert (await next_json(ws))["type"] == "status"
    async with await open_client(secured.ws_url, additional_headers=bearer) as ws:
        await ws.send('{"op":"ping","id":7}')
        assert (await wait_for(ws, is_type("pong")))["id"] == 7


@pytest.mark.anyio
@pytest.mark.slow
async def test_browser_origin_checked(secured: RestreamProcess) -> None:
    """The server's own origin and --allow-origin pass; another site's Origin gets 403."""
    url = secured.ws_url + f"?token={TOKEN}"
    for origin in (
        f"http://127.0.0.1:{secured.port}",
        f"http://localhost:{secured.port}",
        "http://dash.example:9000",
    ):
        async with await open_client(url, origin=origin) as ws:
            assert (await next_json(ws))["type"] == "status"
    for origin in ("http://evil.example", f"http://127.0.0.1:{secured.port + 1}"):
        with pytest.raises(InvalidStatus) as refused:
            await open_client(url, origin=origin)
        assert refused.value.response.status_code == 403
