"""The demo's guided tour: one served request, one refused without spilling, and the resulting records."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from rich.console import Console
from rich.syntax import Syntax


def call(url: str, key: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    """POST JSON to the gateway with the standard library; returns status, JSON body and headers."""
    # S310: an http:// loopback URL that the demo built itself
    request = urllib.request.Request(  # noqa: S310
        url, data=json.dumps(body).encode(), method="POST",
        headers={"content-type": "application/json", "authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - see above
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)


def run_tour(console: Console, gateway: str, keys: dict[str, str], us_requests: Any) -> None:
    eu = f"{gateway}/lanes/eu/v1/chat/completions"
    question = {"role": "user", "content": "Summarise the contract for Anna Schmidt."}

    console.rule("[bold]1. An EU request, served inside the EU lane")
    status, body, headers = call(eu, keys["eu"], {"model": "demo-chat", "messages": [question]})
    console.print(f"POST /lanes/eu/v1/chat/completions model=demo-chat -> [green]{status}[/] "
                  f"via target [bold]{headers.get('x-lanegate-target')}[/]")
    console.print("What the provider received (its own report; your API key is not in it, the gateway's "
                  "provider credential is, masked):")
    console.print(Syntax(body["choices"][0]["message"]["content"], "json", theme="ansi_dark", word_wrap=True))

    console.rule("[bold]2. An EU request whose only compliant target is down")
    before = len(us_requests())
    status, body, _ = call(eu, keys["eu"], {"model": "demo-large", "messages": [question]})
    after = len(us_requests())
    console.print(f"POST /lanes/eu/v1/chat/completions model=demo-large -> [red]{status} {body['error']['code']}[/]")
    head, _, reasons = body["error"]["message"].partition(". ")
    console.print(f"{head}.")
    for reason in reasons.split(" | "):
        console.print(f"  - {reason}", markup=False)
    console.print(f"The US lane is healthy and serves demo-large, yet its provider received "
                  f"[bold]{after - before}[/] request(s) meanwhile: nothing spilled across the border.")

