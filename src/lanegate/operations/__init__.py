"""Endpoints the gateway answers itself — nothing leaves the lane: the model list, ``whoami``, and the
auditor and admin operations. Each handler receives the typed :class:`~lanegate.exchange.Exchange` (with its
principal already checked for the route's role) and returns an :class:`Answer`; it may set
``ex.operation`` to say, in the decision record, what it did (ids and counts, never a key or a payload).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from lanegate.exchange import Exchange
from lanegate.identity.authenticator import Authenticator
from lanegate.laneset import LaneSet
from lanegate.operations import admin, audit
from lanegate.operations.answer import Answer, json_answer

Handler = Callable[[Exchange], Awaitable[Answer]]


class Operations:
    """Dispatches the gateway's own endpoints by name."""

    def __init__(self, authenticator: Authenticator, lanes: LaneSet) -> None:
        self._authenticator = authenticator
        self._handlers: dict[str, Handler] = {
            "models": self._models, "whoami": self._whoami,
            "audit.events": audit.events, "audit.event": audit.event, "audit.checkpoint": audit.checkpoint,
            "audit.exports.list": audit.list_exports, "audit.exports.create": audit.create_export,
            "audit.exports.get": audit.get_export, "audit.exports.bundle": audit.bundle,
            "admin.keys.list": admin.list_keys, "admin.keys.create": admin.create, "admin.keys.revoke": admin.revoke,
            "admin.reload": admin.Reload(lanes),
        }

    def handles(self, endpoint: str) -> bool:
        return endpoint in self._handlers

    async def answer(self, ex: Exchange) -> Answer:
        return await self._handlers[ex.endpoint](ex)

    async def _models(self, ex: Exchange) -> Answer:
        models = ex.lane.config.public_models()
        return json_answer({"object": "list", "data": [
            {"id": m, "object": "model", "created": 0, "owned_by": "lanegate"} for m in models]})

    async def _whoami(self, ex: Exchange) -> Answer:
        assert ex.principal is not None
        return json_answer(self._authenticator.resolve(ex.principal).as_json())


__all__ = ["Answer", "Operations"]
