"""Settings shared by every test in the workspace.

- The anyio plugin runs on asyncio.
- Hypothesis has no per-example deadline: on a loaded 2-core machine a slow example is
  not a failure, and a flaky deadline is a broken test.
"""

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "rsdev", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("rsdev")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
