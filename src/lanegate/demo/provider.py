"""The demo's provider: it answers by reporting exactly what it received, so you see what a provider sees.

Credential values in the headers it received are masked in its report (it shows that a credential came,
and that it is the gateway's, not the caller's).
"""

from __future__ import annotations

import json

from lanegate.testing.upstream import FakeUpstream, Received

SECRET_HEADERS = {"authorization", "api-key", "x-api-key"}


def _mask(name: str, value: str) -> str:
    if name not in SECRET_HEADERS:
        return value
    scheme, _, secret = value.partition(" ")
    return f"{scheme} ****{secret[-4:]}" if secret else "****"


def echo_provider(region: str) -> FakeUpstream:
    """A provider in ``region`` whose reply is a JSON report of the request it received."""

    def report(received: Received) -> str:
        shown = {k: _mask(k, v) for k, v in received.headers.items() if k not in {"host", "content-length"}}
        return json.dumps({"provider_region": region, "path": received.path, "headers": shown,
                           "body": received.json()}, indent=2)

    return FakeUpstream(f"demo provider ({region})", reply=report, chunks=8)
