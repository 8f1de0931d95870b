"""`MonitorLoop`: probe every interval, debounce, announce transitions, persist, count.

The I/O shell around the sans-I/O `Tracker`: it owns the probe call (bounded by the
timeout), the log lines and alerts (each transition logged once), the state file and the
metrics. Time comes from the injected `clock` and `sleep`, so tests drive a day of beats in
milliseconds with `step()`, or run the whole `run(stop)` loop with a fake sleep.

Alerts are loguru records bound with ``alert=True`` (lib_common.logging's convention): the
speech sink reads them aloud and JSON logs mark them. Messages are short enough to speak;
the exact UTC times and figures are bound to the record as context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import anyio
from loguru import logger

from lib_common.logging.timefmt import format_duration, format_utc
from rsdev_misc.monitor.clock import SYSTEM_CLOCK, Clock, Instant, Sleep, real_sleep
from rsdev_misc.monitor.metrics import MonitorMetrics
from rsdev_misc.monitor.probe import FailureKind, Probe, ProbeResult, Severity
from rsdev_misc.monitor.redact import redact
from rsdev_misc.monitor.report import classify, human_line
from rsdev_misc.monitor.settings import MonitorSettings
from rsdev_misc.monitor.statefile import SavedState, StateFileError, load_state, save_state
from rsdev_misc.monitor.states import State, Step
from rsdev_misc.monitor.tracker import ClosedOutage, OpenOutage, Tracker

__all__ = ["Beat", "LoopObserver", "MonitorLoop", "utc"]

# How long past its own timeout a probe may run before the loop abandons it.
_TIMEOUT_GRACE_S = 1.0  # capped at the timeout itself for short timeouts


def utc(wall: float) -> str:
    """Unix seconds as ISO-8601 UTC (``…Z``), via lib_common's one timestamp formatter."""
    return format_utc(round(wall * 1_000_000))


def _hms(wall: float) -> str:
    return utc(wall)[11:19]


def _bound(seconds: float | None) -> str:
    return "unknown" if seconds is None else format_duration(seconds)


@dataclass(frozen=True, slots=True)
class Beat:
    """One probe and everything it caused; what observers and tests see."""

    seq: int
    at: Instant  # when the probe started
    result: ProbeResult  # error already redacted
    severity: Severity
    step: Step
    opened: OpenOutage | None = None  # this beat made the target DOWN
    closed: ClosedOutage | None = None  # this beat made it UP again after an outage
    reminder: OpenOutage | None = None  # a still-DOWN reminder was due


class LoopObserver:
    """Hooks for tool-specific reactions (sounds, outage files). Override what you need.

    Hooks run on the event loop thread: they must return quickly (hand slow work to a thread).
    """

    def on_beat(self, beat: Beat) -> None:
        """Called after every probe, once its transition is logged and saved."""

    def close(self) -> None:
        """Called once when the monitor stops (after the final state save)."""


class MonitorLoop:
    """Probe `probe` every `settings.interval` seconds; see the module docstring."""

    def __init__(
        self,
        probe: Probe,
        settings: MonitorSettings,
        *,
        tool: str = "monitor",
        clock: Clock = SYSTEM_CLOCK,
        sleep: Sleep = real_sleep,
        observers: Sequence[LoopObserver] = (),
        metrics: MonitorMetrics | None = None,
    ) -> None:
        self.probe = probe
        self.settings = settings
        self.tool = tool
        self.target = redact(probe.target)
        self.clock = clock
        self._sleep = sleep
        self.observers = list(observers)
        self.metrics = metrics
        self.tracker = Tracker(
            fail_after=settings.fail_after,
            recover_after=settings.recover_after,
            remind_every=settings.remind_every,
        )
        self.beats = 0
        self.log = logger.bind(tool=tool, target=self.target)
        self.restored: OpenOutage | None = None
        self._save_error: str | None = None
        if settings.state_file is not None:
            self._restore(settings.state_file)

    @property
    def state(self) -> State:
        return self.tracker.state

    # -- persistence -------------------------------------------------------------------
    def _restore(self, path: Path) -> None:
        try:
            saved = load_state(path)
        except StateFileError as exc:
            self.log.warning("ignoring state file: {}", exc)
            return
        if saved is None or saved.outage is None:
            return
        if saved.target != self.target or saved.tool != self.tool:
            self.log.warning(
                "ignoring state file {}: it belongs to {} {}", path, saved.tool, saved.target
            )
            return
        now = Instant.now(self.clock)
        self.tracker.restore(saved.outage, last_bad_wall=saved.last_bad_wall, now=now)
        self.restored = self.tracker.outage
        self._update_metrics(now)

    def save(self) -> None:
        """Write the state file now (no-op without one). Failures are logged, not raised."""
        path = self.settings.state_file
        if path is None:
            return
        tracker = self.tracker
        saved = SavedState(
            tool=self.tool,
            target=self.target,
            state=tracker.state.value,
            saved_at=self.clock.time(),
            outage=tracker.outage,
            last_bad_wall=tracker.last_bad.wall if tracker.last_bad else None,
        )
        try:
            save_state(path, saved)
        except StateFileError as exc:
            if str(exc) != self._save_error:  # once per distinct problem, not every probe
                self.log.error("{}", exc)
            self._save_error = str(exc)
        else:
            if self._save_error is not None:
                self.log.info("state file {} is writable again", path)
            self._save_error = None

    # -- one beat ----------------------------------------------------------------------
    async def probe_once(self) -> ProbeResult:
        """One probe bounded by the timeout; never raises; the error is redacted."""
        timeout = self.settings.timeout
        start = self.clock.monotonic()
        result: ProbeResult | None = None
        with anyio.move_on_after(timeout + min(_TIMEOUT_GRACE_S, timeout)):
            try:
                result = await self.probe.probe(timeout)
            except Exception as exc:  # a probe must not raise, but a bug must not kill the loop
                result = ProbeResult(ok=False, error=f"probe raised {type(exc).__name__}: {exc}")
        if result is None:
            result = ProbeResult(
                ok=False,
                error=f"no answer within {timeout:g}s",
                failure=FailureKind.TIMEOUT,
            )
        if result.error is not None:
            result = replace(result, error=redact(result.error))
        if result.latency_ms is None and result.ok:
            result = replace(result, latency_ms=(self.clock.monotonic() - start) * 1000)
        return result

    async def step(self) -> Beat:
        """Probe once, apply the result, log/alert/save/count what changed; return the beat."""
        at = Instant.now(self.clock)
        result = await self.probe_once()
        severity = classify(result, self.settings.warn_ms)
        failure = result.failure.value if result.failure is not None else None
        obs = self.tracker.observe(result.ok, at, error=result.error, failure=failure)
        self.beats += 1
        beat = Beat(
            seq=self.beats,
            at=at,
            result=result,
            severity=severity,
            step=obs.step,
            opened=obs.opened,
            closed=obs.closed,
            reminder=self.tracker.reminder_due(at),
        )
        self.log.bind(state=obs.step.state.value).debug(
            "{}", human_line(self.tool, self.target, result, severity)
        )
        # Persist before announcing: whoever hears "DOWN" can rely on it surviving a crash.
        if obs.step.changed or (not result.ok and self.tracker.state is State.DOWN):
            self.save()
        self._announce(beat)
        self._update_metrics(at, beat)
        for observer in self.observers:
            observer.on_beat(beat)
        return beat

    def _announce(self, beat: Beat) -> None:
        """Log each transition once; alerts for DOWN, UP-after-DOWN and reminders."""
        step, result = beat.step, beat.result
        why = f"{result.failure.value}: " if result.failure else ""
        why += result.error or "failed"
        fail_after = self.tracker.machine.fail_after
        if beat.opened is not None:
            o = beat.opened
            self.log.bind(
                alert=True,
                state="DOWN",
                start_utc=utc(o.start.wall),
                start_bound_s=o.start_bound_s,
                failed_probes=o.failed_probes,
            ).error(
                "{} is DOWN since {} UTC ({} failed probes): {}",
                self.target,
                _hms(o.start.wall),
                o.failed_probes,
                why,
            )
        elif beat.closed is not None:
            c = beat.closed
            self.log.bind(
                alert=True,
                state="UP",
                start_utc=utc(c.start_wall),
                end_utc=utc(c.end_wall),
                duration_s=round(c.duration_s, 3),
                error_bound_s=c.error_bound_s,
            ).success(
                "{} is UP again after {} down (from {} to {} UTC, error bound {})",
                self.target,
                format_duration(c.duration_s),
                _hms(c.start_wall),
                _hms(c.end_wall),
                _bound(c.error_bound_s),
            )
        elif step.changed and step.previous is State.PENDING:
            self.log.bind(state="UP").info(
                "{} answered again: the failure stayed within the retry budget", self.target
            )
        elif step.state is State.PENDING:  # no alert: still within the retry budget
            self.log.bind(state="PENDING").warning(
                "{} probe failed ({}/{} before DOWN): {}",
                self.target,
                step.consecutive_failures,
                fail_after,
                why,
            )
        if beat.reminder is not None:
            o = beat.reminder
            self.log.bind(alert=True, state="DOWN", start_utc=utc(o.start.wall)).error(
                "{} still DOWN after {} (since {} UTC): {}",
                self.target,
                format_duration(o.elapsed_s(beat.at)),
                _hms(o.start.wall),
                o.last_error or "no answer",
            )

    def announce_restored(self) -> None:
        """Say (once, as an alert) that an outage from before a restart is still open."""
        o = self.restored
        if o is None:
            return
        now = Instant.now(self.clock)
        self.log.bind(alert=True, state="DOWN", start_utc=utc(o.start.wall)).error(
            "{} still DOWN: the outage open since {} UTC ({} ago) continues after a restart",
            self.target,
            _hms(o.start.wall),
            format_duration(o.elapsed_s(now)),
        )

    def _update_metrics(self, now: Instant, beat: Beat | None = None) -> None:
        m = self.metrics
        if m is None:
            return
        t = self.tracker
        m.set_state(t.state, consecutive_failures=t.machine.consecutive_failures)
        m.set_downtime(t.downtime_s(now), t.outages)
        if beat is not None:
            kind = {Severity.OK: "ok", Severity.WARNING: "warning"}.get(beat.severity, "failed")
            latency = beat.result.latency_ms
            m.probed(kind, None if latency is None else latency / 1000)

    # -- the daemon --------------------------------------------------------------------
    async def run(self, stop: anyio.Event) -> None:
        """Beat every interval until `stop` is set; then save the state and close observers.

        Probes start on a fixed cadence (a slow probe does not shift later ones); a beat
        that falls behind by more than an interval is skipped, not run in a burst.
        """
        self.announce_restored()
        try:
            async with anyio.create_task_group() as tg:

                async def beat_forever() -> None:
                    due = self.clock.monotonic()
                    while True:
                        await self.step()
                        due += self.settings.interval
                        now = self.clock.monotonic()
                        due = max(due, now)
                        await self._sleep(due - now)

                tg.start_soon(beat_forever)
                await stop.wait()
                tg.cancel_scope.cancel()
        finally:
            self.save()
            for observer in self.observers:
                observer.close()

    def summary(self) -> str:
        """One line for the exit log: outages, total and longest downtime, open outage."""
        t = self.tracker
        now = Instant.now(self.clock)
        text = (
            f"{t.outages} outage(s), total downtime {format_duration(t.downtime_s(now))}, "
            f"longest {format_duration(t.longest_s)}"
        )
        if t.outage is not None:
            text += f"; still DOWN since {utc(t.outage.start.wall)}"
        return text
