"""Alert tones: a falling low two-tone for DOWN, a rising high two-tone for UP (pygame.mixer).

The tones are generated, not shipped: signed 16-bit samples built for the format the mixer
actually opened (`pygame.mixer.get_init()`), with short fades so they do not click. Playing
is fire-and-forget into SDL's own audio thread, so it never blocks the event loop; `close()`
lets a tone finish (bounded) before the mixer shuts down.

Without a sound device (a server, a container) `pygame.mixer.init()` fails: that is logged
once as a warning and every later `play()` is a no-op. ``SDL_AUDIODRIVER=disk`` with
``SDL_DISKAUDIOFILE=out.raw`` writes the PCM to a file instead (used by the tests).
"""

from __future__ import annotations

import math
import os
import sys
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from loguru import logger

__all__ = ["DOWN_TONE", "UP_TONE", "Tone", "TonePlayer", "render_tone"]


@dataclass(frozen=True, slots=True)
class Tone:
    """A sequence of (frequency Hz, duration s) notes."""

    name: str
    notes: Sequence[tuple[float, float]]


DOWN_TONE = Tone("down", ((523.25, 0.22), (349.23, 0.38)))  # C5 → F4: falling, low
UP_TONE = Tone("up", ((880.0, 0.15), (1318.5, 0.25)))  # A5 → E6: rising, high

_FADE_S = 0.01


def render_tone(tone: Tone, rate: int, channels: int, volume: float = 0.5) -> bytes:
    """Native-endian signed 16-bit PCM of `tone`, interleaved for `channels`."""
    peak = int(32767 * max(0.0, min(volume, 1.0)))
    fade = max(1, int(rate * _FADE_S))
    samples = array("h")
    for freq, seconds in tone.notes:
        n = int(rate * seconds)
        for i in range(n):
            envelope = min(1.0, i / fade, (n - 1 - i) / fade)
            value = int(peak * envelope * math.sin(2 * math.pi * freq * i / rate))
            samples.extend([value] * channels)
    return samples.tobytes()


class TonePlayer:
    """Plays `Tone`s through pygame.mixer; silent (after one warning) when there is no device."""

    def __init__(self, *, enabled: bool = True, volume: float = 0.5) -> None:
        self.volume = volume
        self.available = False
        self._mixer: Any = None
        self._format: tuple[int, int] | None = None  # (rate, channels)
        self._playing: list[Any] = []  # keep Sound objects alive while they play
        self._cache: dict[str, bytes] = {}
        if enabled:
            self._init()

    def _init(self) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        try:
            import pygame.mixer
        except ImportError as exc:
            logger.warning("alert tones are off: pygame is not importable ({})", exc)
            return
        try:
            # mixer only (pygame.init() would start video and joystick too); ask for 16-bit
            pygame.mixer.init(frequency=44100, size=-16, channels=1)
            rate, size, channels = pygame.mixer.get_init()
        except pygame.error as exc:
            logger.warning("alert tones are off: no sound device ({})", exc)
            return
        if size != -16:
            logger.warning("alert tones are off: the mixer opened with sample format {}", size)
            pygame.mixer.quit()
            return
        self._mixer = pygame.mixer
        self._format = (rate, channels)
        self.available = True

    def pcm(self, tone: Tone) -> bytes:
        """The bytes `play(tone)` hands to the mixer (empty when sound is off)."""
        if self._format is None:
            return b""
        if tone.name not in self._cache:
            rate, channels = self._format
            self._cache[tone.name] = render_tone(tone, rate, channels, self.volume)
        return self._cache[tone.name]

    def play(self, tone: Tone) -> None:
        """Start playing `tone` and return at once."""
        if not self.available:
            return
        try:
            sound = self._mixer.Sound(buffer=self.pcm(tone))
            sound.play()
        except Exception as exc:  # pygame.error; a tone is never worth a crash
            logger.warning("alert tone {} failed: {}", tone.name, exc)
            return
        self._playing = [s for s in self._playing if s.get_num_channels()] + [sound]

    def wait(self, timeout: float = 3.0) -> bool:
        """Block until nothing plays (or `timeout`); False if still playing."""
        if not self.available:
            return True
        deadline = time.monotonic() + timeout
        while self._mixer.get_busy():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True

    def close(self, timeout: float = 3.0) -> None:
        """Let a playing tone finish (bounded by `timeout`), then release the device."""
        if not self.available:
            return
        self.wait(timeout)
        self._playing.clear()
        self._mixer.quit()
        self.available = False


def _demo(argv: list[str]) -> int:
    """``python -m rsdev_misc.sound down|up``: play one tone (to check the speakers)."""
    player = TonePlayer()
    played = player.available
    for name in argv or ["down", "up"]:
        player.play(DOWN_TONE if name == "down" else UP_TONE)
        player.wait()
    player.close()
    return 0 if played else 1


if __name__ == "__main__":
    sys.exit(_demo(sys.argv[1:]))
