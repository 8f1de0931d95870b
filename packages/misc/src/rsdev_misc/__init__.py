"""rsdev monitors: monitor-postgres, monitor-redis and monitor-net on one shared loop."""
