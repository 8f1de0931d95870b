"""Real servers on loopback for the monitor tests: PostgreSQL, PgBouncer, Redis, test CAs.

Use them through the fixtures in `packages/misc/tests/conftest.py`; import the classes from
a test module with a relative import (`from ..servers import PostgresServer`) for types.
"""

from ._support import free_port, require_binary, service_user, wait_until
from .daemon import LoopRun, check_outage_and_recovery, running_loop
from .postgres import PgBouncerServer, PostgresServer
from .redis import BlackHole, RedisServer
from .running import MONITOR_ENV, Outcome, RunMain, RunMonitor
from .tls import TestCA

__all__ = [
    "MONITOR_ENV",
    "BlackHole",
    "LoopRun",
    "Outcome",
    "PgBouncerServer",
    "PostgresServer",
    "RedisServer",
    "RunMain",
    "RunMonitor",
    "TestCA",
    "check_outage_and_recovery",
    "free_port",
    "require_binary",
    "running_loop",
    "service_user",
    "wait_until",
]
