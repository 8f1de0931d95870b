"""restream: the quote fan-out gateway."""
