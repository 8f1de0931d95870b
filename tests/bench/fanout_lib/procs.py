"""Child processes in their own process groups, and what the kernel says about them.

Every process the bench starts leads a new session (its own process group), so
`stop_all` can end it with everything it spawned — on success, on error and on Ctrl-C —
without touching anything else. CPU and memory figures are read from /proc: utime +
stime of the process (all its threads) and VmRSS/VmHWM.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ProcStats", "Processes", "proc_stats"]

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcStats:
    """CPU seconds used so far (user + system) and memory now / at peak, in bytes."""

    cpu_s: float
    rss: int
    hwm: int


def proc_stats(pid: int) -> ProcStats:
    """Read /proc/PID/stat and /proc/PID/status (raises OSError if the process is gone)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (man 5 proc)
    rss = hwm = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) * 1024
    return ProcStats(cpu, rss, hwm)


class Processes:
    """The process groups started for a run; `stop_all` ends them (TERM, then KILL)."""

    def __init__(self) -> None:
        self._procs: list[asyncio.subprocess.Process] = []

    async def start(
        self,
        argv: list[str],
        *,
        env: dict[str, str] | None = None,
        stdout: int | None = None,
        stderr: int | None = None,
        pipes: bool = False,
        limit: int = 1 << 16,
    ) -> asyncio.subprocess.Process:
        """Start `argv` as a new session; with `pipes`, stdin/stdout are pipes to it."""
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if pipes else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE if pipes else stdout,
            stderr=stderr,
            env=env,
            start_new_session=True,
            limit=limit,
        )
        self._procs.append(proc)
        return proc

    async def stop(self, proc: asyncio.subprocess.Process, grace: float = 3.0) -> None:
        """SIGTERM the process group, SIGKILL it after `grace` seconds."""
        if proc.returncode is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                _signal_group(proc.pid, signal.SIGKILL)
                await proc.wait()
        if proc in self._procs:
            self._procs.remove(proc)

    async def stop_all(self) -> None:
        """Stop every process still tracked, all groups signalled at once."""
        procs = list(self._procs)
        await asyncio.gather(*(self.stop(p) for p in procs))

    def kill_all_now(self) -> None:
        """Last resort (atexit): SIGKILL every tracked group whose leader is not reaped."""
        for proc in self._procs:
            if proc.returncode is None:
                _signal_group(proc.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)
