"""`python -m rsdev_servers.server_yahoo`: the same as the `server-yahoo` console script."""

import sys

from rsdev_servers.server_yahoo.cli import main

sys.exit(main())
