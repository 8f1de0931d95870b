"""JSON lines over stdin/stdout between the harness and its child processes.

A child (feeder, client worker) reads one command object per line on stdin and answers
each with one object per line on stdout; its logs go to stderr. The harness side waits
for every answer with a deadline, so a stuck child fails the run instead of hanging it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

__all__ = ["Child", "ChildError", "commands", "reply"]

_LINE_LIMIT = 1 << 26  # client reports carry latency histograms


class ChildError(RuntimeError):
    """A child process died, answered with an error, or missed its deadline."""


async def commands() -> AsyncIterator[dict[str, Any]]:
    """The commands arriving on stdin, until the harness closes it."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        yield json.loads(line)


def reply(message: dict[str, Any]) -> None:
    """Answer the current command (one line on stdout)."""
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class Child:
    """The harness's handle on one child: send a command, await its one-line answer."""

    def __init__(self, name: str, proc: asyncio.subprocess.Process) -> None:
        self.name = name
        self.proc = proc

    async def request(self, command: dict[str, Any], wait_s: float) -> dict[str, Any]:
        """Send `command`; return the answer, or raise ChildError (died, error, timeout)."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(command).encode() + b"\n")
            await self.proc.stdin.drain()
            line = await asyncio.wait_for(self.proc.stdout.readline(), wait_s)
        except TimeoutError as exc:
            raise ChildError(f"{self.name}: no answer to {command['cmd']!r} in {wait_s}s") from exc
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise ChildError(f"{self.name}: exited (code {self.proc.returncode})") from exc
        if not line:
            raise ChildError(f"{self.name}: exited (code {await self.proc.wait()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise ChildError(f"{self.name}: {answer['error']}")
        return answer

    @staticmethod
    def line_limit() -> int:
        """The StreamReader limit to pass to create_subprocess_exec."""
        return _LINE_LIMIT
