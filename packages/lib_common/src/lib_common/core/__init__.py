"""The engine: symbol registry, memory guard, dispatcher, upstream manager, market hours."""
