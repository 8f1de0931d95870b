"""Alert tones through pygame's SDL disk driver (in a subprocess: the mixer is global)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rsdev_misc.sound import DOWN_TONE, UP_TONE, render_tone

SCRIPT = """
import sys
from rsdev_misc.sound import DOWN_TONE, UP_TONE, TonePlayer
player = TonePlayer()
player.play(DOWN_TONE if sys.argv[1] == "down" else UP_TONE)
player.close()
player.play(UP_TONE)  # after close (or without a device): a silent no-op
"""


def play(tone: str, driver: str, out: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SDL_AUDIODRIVER": driver,
        "SDL_DISKAUDIOFILE": str(out),
        "PYGAME_HIDE_SUPPORT_PROMPT": "1",
    }
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, tone], env=env, capture_output=True, text=True, timeout=30
    )


def test_down_and_up_tones_reach_the_disk_driver(tmp_path: Path) -> None:
    """The exact DOWN and UP PCM is written to SDL's disk-audio file, and they differ."""
    down, up = tmp_path / "down.raw", tmp_path / "up.raw"
    for name, out in (("down", down), ("up", up)):
        done = play(name, "disk", out)
        assert done.returncode == 0, done.stderr
    down_pcm = render_tone(DOWN_TONE, 44100, 1, 0.5)
    assert down.stat().st_size >= len(down_pcm)
    assert down_pcm in down.read_bytes()
    assert render_tone(UP_TONE, 44100, 1, 0.5)[:20000] in up.read_bytes()
    assert down.read_bytes() != up.read_bytes()
    assert down_pcm not in up.read_bytes()


def test_no_sound_device_warns_once_and_goes_on(tmp_path: Path) -> None:
    """An unavailable audio driver: one warning, no crash, exit 0."""
    done = play("down", "no-such-audio-driver", tmp_path / "x.raw")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("alert tones are off") == 1
    assert not (tmp_path / "x.raw").exists()
