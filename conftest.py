"""Settings shared by every test in the workspace: the anyio plugin runs on asyncio."""

import pytest


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
