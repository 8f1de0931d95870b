"""Text-to-speech engines and WAV playback for the spoken-alert sink.

A :class:`Speaker` turns text into a WAV file; a :class:`Playback` plays a WAV file. Both are
small protocols, so another engine (pyttsx3, a cloud voice) plugs in without touching the sink.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

__all__ = [
    "EspeakNG",
    "Playback",
    "PlaybackUnavailable",
    "PygamePlayback",
    "Speaker",
    "SpeechEngineMissing",
    "SpeechError",
]


class SpeechError(Exception):
    """Synthesis or playback of one alert failed."""


class SpeechEngineMissing(SpeechError):
    """No speech engine is installed: nothing can be synthesized at all."""


class PlaybackUnavailable(SpeechError):
    """No way to play sound here (no pygame, no audio device)."""


class Speaker(Protocol):
    """Something that writes spoken ``text`` to a WAV file at ``path``."""

    def synthesize_to_wav(self, text: str, path: Path) -> None: ...


class Playback(Protocol):
    """Something that plays a WAV file to the end."""

    def play_wav(self, path: Path) -> None: ...


class EspeakNG:
    """The ``espeak-ng`` command line (Debian package ``espeak-ng``), fully offline."""

    def __init__(
        self,
        binary: str = "espeak-ng",
        *,
        voice: str | None = None,
        words_per_minute: int | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.binary = binary
        self._voice = voice
        self._wpm = words_per_minute
        self._timeout = timeout

    def synthesize_to_wav(self, text: str, path: Path) -> None:
        """Write ``text`` as speech to ``path`` (text goes through stdin, never as an option)."""
        argv = [self.binary, "-w", str(path)]
        if self._voice:
            argv += ["-v", self._voice]
        if self._wpm:
            argv += ["-s", str(self._wpm)]
        argv.append("--stdin")
        try:
            proc = subprocess.run(
                argv, input=text.encode(), capture_output=True, timeout=self._timeout, check=False
            )
        except (FileNotFoundError, PermissionError) as exc:
            raise SpeechEngineMissing(f"{self.binary}: {exc.strerror}") from exc
        except subprocess.TimeoutExpired as exc:
            raise SpeechError(f"{self.binary} timed out after {self._timeout}s") from exc
        # espeak-ng exits 0 even when it cannot write the file: the file is the only proof.
        if proc.returncode != 0 or not path.is_file() or path.stat().st_size == 0:
            detail = proc.stderr.decode(errors="replace").strip() or f"exit {proc.returncode}"
            raise SpeechError(f"{self.binary} wrote no audio: {detail}")


class PygamePlayback:
    """Plays WAV files through ``pygame.mixer`` (reusing the mixer if it is already open)."""

    def __init__(
        self, *, poll_interval: float = 0.05, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._poll_interval = poll_interval
        self._sleep = sleep

    def play_wav(self, path: Path) -> None:
        """Play ``path`` and return when it has finished."""
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        try:
            import pygame
        except ImportError as exc:
            raise PlaybackUnavailable("pygame is not installed") from exc
        try:
            if pygame.mixer.get_init() is None:
                pygame.mixer.init()
        except pygame.error as exc:  # no sound card, no audio server
            raise PlaybackUnavailable(f"no audio output: {exc}") from exc
        try:
            channel = pygame.mixer.Sound(str(path)).play()
        except pygame.error as exc:
            raise SpeechError(f"cannot play {path.name}: {exc}") from exc
        while channel is not None and channel.get_busy():
            self._sleep(self._poll_interval)
