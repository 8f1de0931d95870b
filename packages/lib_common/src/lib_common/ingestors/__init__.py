"""Upstream ingestors: Yahoo streaming and REST, CNN Fear & Greed."""
