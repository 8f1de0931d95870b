"""`python -m rsdev_misc.monitor_redis`: the same as the `monitor-redis` script."""

from rsdev_misc.monitor_redis.cli import main

raise SystemExit(main())
