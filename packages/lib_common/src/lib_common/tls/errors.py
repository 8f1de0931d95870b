"""The one error the TLS policy raises: the settings cannot give a secure connection."""

from __future__ import annotations

__all__ = ["TLSConfigError"]


class TLSConfigError(ValueError):
    """A TLS setting is missing, unreadable, contradictory or would silently weaken security."""
