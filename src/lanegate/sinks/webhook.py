"""HTTPS webhook: each batch is POSTed as ``{"events": [...]}``, signed with HMAC-SHA256.

Headers: ``x-lanegate-timestamp`` (Unix seconds) and ``x-lanegate-signature: sha256=HEX`` where HEX is the
HMAC of ``TIMESTAMP + "." + BODY`` with the sink's secret. Receivers should reject old timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
import time
from typing import Any

import aiohttp
import orjson

from lanegate.config.models import WebhookSink as WebhookSpec
from lanegate.config.secrets import resolve_secret
from lanegate.sinks.base import SinkError


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookSink:
    def __init__(self, spec: WebhookSpec) -> None:
        self.id = spec.id
        self._url = str(spec.url)
        self._secret = resolve_secret(spec.secret_key_ref).encode()
        self._ssl = ssl.create_default_context(cafile=spec.ca_file)
        self._session: aiohttp.ClientSession | None = None

    async def send(self, events: list[dict[str, Any]]) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15), trust_env=False,
                                                  cookie_jar=aiohttp.DummyCookieJar())
        body = orjson.dumps({"events": events})
        stamp = str(int(time.time()))
        headers = {"content-type": "application/json", "x-lanegate-timestamp": stamp,
                   "x-lanegate-signature": signature(self._secret, stamp, body)}
        try:
            async with self._session.post(self._url, data=body, headers=headers, ssl=self._ssl,
                                          allow_redirects=False) as response:
                if response.status >= 300:
                    raise SinkError(f"webhook answered {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SinkError(f"webhook delivery failed: {exc.__class__.__name__}") from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
