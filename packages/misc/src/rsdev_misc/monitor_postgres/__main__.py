"""`python -m rsdev_misc.monitor_postgres`: the same as the `monitor-postgres` script."""

from rsdev_misc.monitor_postgres.cli import main

raise SystemExit(main())
