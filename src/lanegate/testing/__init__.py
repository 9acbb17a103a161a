"""Test tools shipped with Lanegate: real loopback servers and a recording fake provider."""

from lanegate.testing.servers import LoopbackServer
from lanegate.testing.upstream import FakeUpstream, Received

__all__ = ["FakeUpstream", "LoopbackServer", "Received"]
