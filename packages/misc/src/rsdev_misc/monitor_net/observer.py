"""monitor-net's reactions to each round: tones, the degraded state, the outage log.

The shared loop decides UP/DOWN on *offline* rounds (every target failed). Partial failure
is tracked here with a second instance of the same sans-I/O `Tracker`, fed only with the
rounds that reached at least one target: a degraded round is a "failure", an online round
a "success", an offline round is skipped (it belongs to the offline outage). So "degraded"
is debounced with the same --fail-after / --recover-after, alerted distinctly (WARNING),
and written to the outage log as kind "degraded" when it ends.
"""

from __future__ import annotations

from loguru import logger

from lib_common.logging.timefmt import format_duration
from rsdev_misc.monitor import Beat, LoopObserver, MonitorSettings, State, Tracker, utc
from rsdev_misc.monitor_net.outages import OutageLog
from rsdev_misc.monitor_net.probe import NetProbe
from rsdev_misc.sound import DOWN_TONE, UP_TONE, TonePlayer

__all__ = ["NetObserver"]


class NetObserver(LoopObserver):
    """Plays the DOWN/UP tones, tracks "degraded", writes the outage log, sums up at exit."""

    def __init__(
        self,
        probe: NetProbe,
        settings: MonitorSettings,
        *,
        outage_log: OutageLog,
        tones: TonePlayer | None = None,
    ) -> None:
        self.probe = probe
        self.outage_log = outage_log
        self.tones = tones
        self.degraded = Tracker(
            fail_after=settings.fail_after, recover_after=settings.recover_after
        )
        self.log = logger.bind(tool="monitor-net", target=probe.target)
        self._offline_failed: set[str] = set()
        self._degraded_failed: set[str] = set()

    def _failed_now(self) -> set[str]:
        return {r.check.name for r in self.probe.last if not r.ok}

    def on_beat(self, beat: Beat) -> None:
        failed = self._failed_now()
        if not beat.result.ok or beat.step.state is State.DOWN:
            self._offline_failed |= failed
        if beat.opened is not None and self.tones is not None:
            self.tones.play(DOWN_TONE)
        if beat.closed is not None:
            if self.tones is not None:
                self.tones.play(UP_TONE)
            self.outage_log.record("offline", beat.closed, self._offline_failed)
        if beat.step.state is State.UP and beat.result.ok:
            self._offline_failed = set()
        if beat.result.ok:
            self._track_degraded(beat, failed)

    def _track_degraded(self, beat: Beat, failed: set[str]) -> None:
        listed = str(beat.result.details.get("failed", ""))
        if beat.result.degraded:
            self._degraded_failed |= failed
        obs = self.degraded.observe(not beat.result.degraded, beat.at, error=listed or None)
        if obs.opened is not None:
            self.log.bind(
                alert=True, state="DEGRADED", start_utc=utc(obs.opened.start.wall)
            ).warning(
                "network DEGRADED: {} of {} targets failing: {}",
                len(failed),
                len(self.probe.checks),
                listed,
            )
        elif obs.closed is not None:
            c = obs.closed
            self.outage_log.record("degraded", c, self._degraded_failed)
            self._degraded_failed = set()
            self.log.bind(
                alert=True,
                state="UP",
                start_utc=utc(c.start_wall),
                end_utc=utc(c.end_wall),
                duration_s=round(c.duration_s, 3),
            ).info("network no longer degraded, after {}", format_duration(c.duration_s))
        elif beat.result.degraded:
            self.log.bind(state="DEGRADED?").info(
                "some targets failing ({}/{} before DEGRADED): {}",
                obs.step.consecutive_failures,
                self.degraded.machine.fail_after,
                listed,
            )
        elif self.degraded.state is not State.DOWN:
            self._degraded_failed = set()

    def close(self) -> None:
        if self.tones is not None:
            self.tones.close()
        self.log.info("outage summary: {}", self.outage_log.summary())
