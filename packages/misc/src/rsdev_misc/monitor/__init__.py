"""The monitor loop shared by monitor-postgres, monitor-redis and monitor-net."""
