from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest_asyncio
from sqlalchemy.engine import Engine

from .network import Network, build_network


@pytest_asyncio.fixture
async def network(chain: dict, make_db: Callable[[], Engine]) -> AsyncIterator[Network]:
    """The fixture's 8 companies, one node each, wired through an in-process router."""
    net = await build_network(chain, make_db)
    async with net.stack:
        yield net
