"""`python -m rsdev_servers.restream`: the same as the `restream` console script."""

import sys

from rsdev_servers.restream.cli import main

sys.exit(main())
