"""The provider client against a real loopback server."""

from __future__ import annotations

import asyncio
from typing import Any

from lanegate.config.models import TargetSpec, UpstreamSettings
from lanegate.providers.openai_compat import OpenAICompatible
from lanegate.testing import LoopbackServer


class CookieSettingProvider:
    """Answers every call with a cookie (as CDNs in front of cloud APIs do) and records the cookies it gets."""

    def __init__(self) -> None:
        self.cookies: list[str | None] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        headers = dict(scope["headers"])
        self.cookies.append(headers[b"cookie"].decode() if b"cookie" in headers else None)
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"),
            (b"set-cookie", b"__cf_bm=caller-one; Path=/; HttpOnly"),
        ]})
        await send({"type": "http.response.body", "body": b'{"choices": []}'})


def test_provider_cookies_are_never_sent_back_on_later_calls() -> None:
    provider = CookieSettingProvider()
    with LoopbackServer(provider, lifespan="off") as server:
        # by name, not by address: a client keeps cookies for host names only
        target = TargetSpec(id="t", base_url=server.url.replace("127.0.0.1", "localhost") + "/v1", model="m",
                            region="eu-central-1")

        async def two_calls() -> None:
            client = OpenAICompatible(UpstreamSettings())
            await client.start()
            try:
                for _ in range(2):
                    answer = await client.call(target, None, "/chat/completions", b"{}", stream=False)
                    assert answer.status == 200
            finally:
                await client.stop()

        asyncio.run(two_calls())
    assert provider.cookies == [None, None]
