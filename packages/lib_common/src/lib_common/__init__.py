"""rsdev lib_common: the engine, the upstream ingestors and simulator, and shared utilities."""
