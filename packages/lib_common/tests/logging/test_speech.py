"""Tests for the spoken-alert sink: real espeak-ng WAV files, injected clocks, bounded queue."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from loguru import logger

from lib_common.logging import EspeakNG, LoggingHandle, SpeechConfig, alert
from lib_common.logging.speech import SpeechSink

WAIT = 10.0  # seconds; a deadline for the worker, not a delay


class ManualClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class GatedSpeaker:
    """A Speaker that holds the worker inside synthesis until the test opens the gate."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.texts: list[str] = []

    def synthesize_to_wav(self, text: str, path: Path) -> None:
        self.entered.set()
        self.gate.wait(WAIT)
        self.texts.append(text)
        path.write_bytes(b"RIFF")


def wavs(directory: Path) -> list[Path]:
    return sorted(directory.glob("alert-*.wav"))


def speech_config(tmp_path: Path, **kwargs: object) -> SpeechConfig:
    """Speech into WAV files under tmp_path, no rate limit unless the test sets one."""
    kwargs.setdefault("interval", 0.0)
    return SpeechConfig(wav_dir=tmp_path / "wav", **kwargs)  # type: ignore[arg-type]


def spoken(handle: LoggingHandle) -> SpeechSink:
    assert handle.speech is not None
    assert handle.speech.wait_idle(WAIT)
    return handle.speech


def test_error_record_becomes_a_wav_file(
    configure: Callable[..., LoggingHandle], tmp_path: Path, espeak_ng: str
) -> None:
    """An ERROR record is synthesized by espeak-ng into a real, non-trivial WAV file."""
    handle = configure("monitor-redis", speech=speech_config(tmp_path))
    logger.error("redis is down")
    sink = spoken(handle)

    (wav,) = wavs(tmp_path / "wav")
    data = wav.read_bytes()
    assert (data[:4], data[8:12]) == (b"RIFF", b"WAVE")
    assert len(data) > 1000
    assert sink.stats.spoken == 1


def test_alerts_are_spoken_at_any_level_plain_warnings_are_not(
    configure: Callable[..., LoggingHandle], tmp_path: Path, espeak_ng: str
) -> None:
    """``alert()`` at WARNING is spoken; an ordinary WARNING is not."""
    handle = configure(speech=speech_config(tmp_path))
    logger.warning("ordinary warning")
    alert("postgres down for 3 minutes")
    spoken(handle)
    assert len(wavs(tmp_path / "wav")) == 1


def test_second_alert_within_the_interval_is_dropped_and_counted(
    configure: Callable[..., LoggingHandle], tmp_path: Path
) -> None:
    """With a 30 s interval, an alert 1 s after another is dropped; one 31 s later is spoken."""
    clock, speaker = ManualClock(), GatedSpeaker()
    speaker.gate.set()
    handle = configure(speech=speech_config(tmp_path, interval=30.0, clock=clock, speaker=speaker))
    logger.error("first")
    clock.now = 1.0
    logger.error("second")
    clock.now = 31.0
    logger.error("third")
    sink = spoken(handle)

    assert speaker.texts == ["test-app. first", "test-app. third"]
    assert (sink.stats.spoken, sink.stats.rate_limited) == (2, 1)


def test_missing_engine_warns_once_and_counts_the_rest(
    configure: Callable[..., LoggingHandle], tmp_path: Path
) -> None:
    """A non-existent espeak-ng: one warning, no crash, later alerts only counted."""
    stream = io.StringIO()
    speaker = EspeakNG(binary=str(tmp_path / "no-such-espeak-ng"))
    handle = configure(stderr=stream, speech=speech_config(tmp_path, speaker=speaker))
    for n in range(3):
        logger.error("failure {}", n)
        assert handle.speech is not None
        handle.speech.wait_idle(WAIT)
    sink = spoken(handle)

    warnings = [line for line in stream.getvalue().splitlines() if "no speech engine" in line]
    assert len(warnings) == 1
    assert (sink.stats.spoken, sink.stats.engine_missing) == (0, 3)
    assert wavs(tmp_path / "wav") == []


@pytest.mark.anyio
async def test_full_queue_drops_without_blocking_the_event_loop(
    configure: Callable[..., LoggingHandle], tmp_path: Path
) -> None:
    """While the worker is busy logging returns at once; beyond the queue bound alerts drop."""
    speaker = GatedSpeaker()
    handle = configure(speech=speech_config(tmp_path, speaker=speaker, queue_size=1))
    logger.error("taken by the worker")
    with anyio.fail_after(WAIT):
        await anyio.to_thread.run_sync(speaker.entered.wait)
    started = time.monotonic()
    logger.error("queued")
    logger.error("dropped")
    assert time.monotonic() - started < 1.0  # the logging calls did not wait for speech
    speaker.gate.set()
    sink = spoken(handle)

    assert speaker.texts == ["test-app. taken by the worker", "test-app. queued"]
    assert (sink.stats.spoken, sink.stats.queue_full) == (2, 1)


def test_long_messages_are_cut_at_a_word(
    configure: Callable[..., LoggingHandle], tmp_path: Path
) -> None:
    """Only the first ``max_chars`` characters are spoken, cut at a word boundary."""
    speaker = GatedSpeaker()
    speaker.gate.set()
    handle = configure(speech=speech_config(tmp_path, speaker=speaker, max_chars=24))
    logger.error("connection refused by the upstream server")
    spoken(handle)
    assert speaker.texts == ["test-app. connection"]


PLAY_SCRIPT = """
import io, sys
from loguru import logger
from lib_common.logging import SpeechConfig, setup_logging
stream = io.StringIO()
handle = setup_logging("player", stderr=stream, speech=SpeechConfig(interval=0))
logger.error("disk is full")
logger.error("disk is still full")
assert handle.speech.wait_idle(20)
stats = handle.speech.stats
handle.close()
warnings = [l for l in stream.getvalue().splitlines() if "not played" in l]
print(stats.spoken, stats.synthesized_only, len(warnings))
"""


def run_player(env: dict[str, str], tmp_path: Path) -> list[int]:
    """Run PLAY_SCRIPT in a fresh process (pygame's mixer is process-wide state)."""
    result = subprocess.run(
        [sys.executable, "-c", PLAY_SCRIPT],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [int(n) for n in result.stdout.split()]


@pytest.mark.slow
def test_pygame_plays_the_synthesized_speech(
    tmp_path: Path, espeak_ng: str, pygame_installed: None
) -> None:
    """Through pygame on SDL's disk driver, both alerts are played and PCM reaches the device."""
    device = tmp_path / "audio.raw"
    env = {
        "SDL_AUDIODRIVER": "disk",
        "SDL_DISKAUDIOFILE": str(device),
        "SDL_DISKAUDIODELAY": "0",
    }
    assert run_player(env, tmp_path) == [2, 0, 0]
    assert device.stat().st_size > 10_000


@pytest.mark.slow
def test_without_an_audio_device_speech_is_synthesized_and_warned_once(
    tmp_path: Path, espeak_ng: str, pygame_installed: None
) -> None:
    """No usable audio output: alerts are still synthesized, with exactly one warning."""
    assert run_player({"SDL_AUDIODRIVER": "no-such-driver"}, tmp_path) == [0, 2, 1]
