"""A local identity provider on loopback, for the identity tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lanegate.testing import LoopbackServer
from lanegate.testing.idp import LocalIdentityProvider


@pytest.fixture
def idp() -> Iterator[LocalIdentityProvider]:
    provider = LocalIdentityProvider()
    server = LoopbackServer(provider, lifespan="off").start()
    provider.issuer = server.url
    yield provider
    server.stop()
