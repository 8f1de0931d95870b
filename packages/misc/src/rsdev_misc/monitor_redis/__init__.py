"""monitor-redis: a Redis health probe and daemon (PING latency, ACL auth, TLS, heartbeat key).

- `RedisProbe(target, *, keep_connection=False, heartbeat=None)`: the `Probe`
  (rsdev_misc.monitor) — `await probe.probe(timeout)` returns a `ProbeResult` whose
  `latency_ms` is the PING round trip, with details ``connect_ms``, ``ping_ms``
  (``heartbeat_ms``) and ``connection`` (new/kept).
- `resolve_target(url, *, username=None, password=None, ca_file=None, tls_insecure=False)`:
  the URL, credentials and TLS choice checked, as a `RedisTarget` (raises `UsageError`).
- `classify_error(exc)`: the `FailureKind` of a redis-py error.
- `RedisHeartbeat(key, ttl_s, host, pid)`, `ttl_for_interval(interval_s)`: the heartbeat key.
- `main(argv=None)`: the console script.
"""

from rsdev_misc.monitor_redis.cli import build_redis_parser, main, make_probe
from rsdev_misc.monitor_redis.errors import classify_error
from rsdev_misc.monitor_redis.heartbeat import RedisHeartbeat, ttl_for_interval
from rsdev_misc.monitor_redis.probe import RedisProbe
from rsdev_misc.monitor_redis.target import RedisTarget, describe, resolve_target

__all__ = [
    "RedisHeartbeat",
    "RedisProbe",
    "RedisTarget",
    "build_redis_parser",
    "classify_error",
    "describe",
    "main",
    "make_probe",
    "resolve_target",
    "ttl_for_interval",
]
