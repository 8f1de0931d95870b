"""The gateways under test: how to start each one and what its messages carry.

| name | process | upstream | latency base |
|---|---|---|---|
| `restream` | the `restream` console script | the feeder's Yahoo stream | `ts_library_in` |
| `websockets_broadcast` | `fanout_lib.gateway_broadcast` | the feeder's JSON | `ts_feeder` |
| `node_ws` | `node fanout_lib/gateway_node_ws.js` | the feeder's JSON | `ts_feeder` |
| `raw_limit` | `fanout_lib.gateway_raw` | the feeder's JSON | `ts_feeder` |

Each is started directly (no `uv run`, no `npm start` wrapper), so the PID the harness
reads /proc for is the server itself. Every gateway prints a loopback URL with its port.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GATEWAYS", "GatewaySpec", "LaunchContext", "install_node_ws", "wait_for_port"]

BENCH_DIR = Path(__file__).resolve().parent.parent
LIB_DIR = Path(__file__).resolve().parent
_PORT = re.compile(rb"(?:ws|http)://127\.0\.0\.1:(\d+)")


@dataclass(frozen=True, slots=True)
class LaunchContext:
    """What a gateway's command line is built from."""

    urls: Mapping[str, str]  # the feeder's: yahoo_ws, json_ws, rest, cnn
    node_modules: Path | None
    memory_budget: str | None  # restream --memory-budget
    max_client_buffer: str | None  # restream --max-client-buffer
    extra_restream_args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GatewaySpec:
    """One gateway: its name, its latency field, how to launch it."""

    name: str
    lat_key: str
    kind: str  # "restream" | "python" | "node"
    module: str = ""

    def argv(self, ctx: LaunchContext) -> list[str]:
        if self.kind == "restream":
            argv = [
                restream_executable(),
                "--upstream-ws",
                ctx.urls["yahoo_ws"],
                "--upstream-rest",
                ctx.urls["rest"],
                "--cnn-url",
                ctx.urls["cnn"],
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--log-level",
                "WARNING",
            ]
            if ctx.memory_budget:
                argv += ["--memory-budget", ctx.memory_budget]
            if ctx.max_client_buffer:
                argv += ["--max-client-buffer", ctx.max_client_buffer]
            return argv + list(ctx.extra_restream_args)
        if self.kind == "node":
            return ["node", str(LIB_DIR / "gateway_node_ws.js"), "--upstream", ctx.urls["json_ws"]]
        return [sys.executable, "-m", self.module, "--upstream", ctx.urls["json_ws"]]

    def env(self, ctx: LaunchContext, base: Mapping[str, str]) -> dict[str, str]:
        env = dict(base)
        if self.kind == "node" and ctx.node_modules is not None:
            env["NODE_PATH"] = str(ctx.node_modules)
        return env


GATEWAYS: dict[str, GatewaySpec] = {
    g.name: g
    for g in (
        GatewaySpec("restream", "ts_library_in", "restream"),
        GatewaySpec("websockets_broadcast", "ts_feeder", "python", "fanout_lib.gateway_broadcast"),
        GatewaySpec("node_ws", "ts_feeder", "node"),
        GatewaySpec("raw_limit", "ts_feeder", "python", "fanout_lib.gateway_raw"),
    )
}


def restream_executable() -> str:
    """The `restream` console script of this environment (next to the interpreter)."""
    found = shutil.which("restream", path=str(Path(sys.executable).parent)) or shutil.which(
        "restream"
    )
    if found is None:
        raise FileNotFoundError("no `restream` console script in this environment")
    return found


async def install_node_ws(target: Path, limit_s: float = 180.0) -> Path:
    """`npm install` the pinned `ws` into `target`; return its node_modules folder."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise FileNotFoundError("node or npm is not installed")
    spec = _node_packages(target)
    proc = await asyncio.create_subprocess_exec(
        "npm",
        "install",
        "--prefix",
        str(target),
        "--no-audit",
        "--no-fund",
        "--no-package-lock",
        "--loglevel=error",
        *spec,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), limit_s)
    except TimeoutError:
        os.killpg(proc.pid, 9)
        await proc.wait()
        raise RuntimeError(f"npm install did not finish in {limit_s:.0f}s") from None
    if proc.returncode != 0:
        raise RuntimeError(f"npm install failed: {out.decode(errors='replace')[-500:]}")
    return target / "node_modules"


async def wait_for_port(log: Path, proc: asyncio.subprocess.Process, limit_s: float = 30.0) -> int:
    """Poll the gateway's log for its printed loopback URL; its port."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while loop.time() < deadline:
        text = _read(log)
        match = _PORT.search(text)
        if match:
            return int(match.group(1))
        if proc.returncode is not None:
            tail = text[-800:].decode(errors="replace")
            raise RuntimeError(f"gateway exited ({proc.returncode}) before listening: {tail}")
        await asyncio.sleep(0.05)
    raise RuntimeError(f"gateway printed no port within {limit_s:.0f}s (log: {log})")


def _read(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


def _node_packages(target: Path) -> list[str]:
    """`name@version` for each dependency in package.json; creates `target`."""
    manifest = json.loads((LIB_DIR / "package.json").read_text())
    target.mkdir(parents=True, exist_ok=True)
    return [f"{name}@{version}" for name, version in manifest["dependencies"].items()]
