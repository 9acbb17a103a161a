"""Admin operations over HTTP: the lane's API keys, and reloading the lane's pack.

A lane's admin manages that lane only: its keys, and putting its own pack (as now on disk) in force.
"""

from __future__ import annotations

from typing import Any

from lanegate.errors import Refusal, not_found
from lanegate.exchange import Exchange
from lanegate.identity.keys import create_key, now_iso
from lanegate.laneset import LaneSet, ReloadRefused
from lanegate.operations.answer import Answer, json_answer
from lanegate.operations.schemas import KeyCreateRequest, parse_body
from lanegate.store.base import ApiKeyRecord


def _key(record: ApiKeyRecord) -> dict[str, Any]:
    return {"id": record.key_id, "object": "api_key", "name": record.name, "prefix": record.prefix,
            "roles": list(record.roles), "created_at": record.created_at, "revoked_at": record.revoked_at}


async def list_keys(ex: Exchange) -> Answer:
    """``GET admin/keys``: the lane's keys (names, ids, prefixes, roles; never a key)."""
    return json_answer({"object": "list", "data": [_key(k) for k in await ex.lane.store.list_keys()]})


async def create(ex: Exchange) -> Answer:
    """``POST admin/keys``: a new key with the given roles; the key is in this answer and nowhere else."""
    request = parse_body(KeyCreateRequest, ex.body)
    try:
        key, record = await create_key(ex.lane.store, ex.lane.name, request.name, tuple(request.roles))
    except ValueError:
        raise Refusal(409, f"An active key named '{request.name}' already exists; revoke it first or choose "
                      "another name.", type="invalid_request_error", code="key_exists", param="name") from None
    ex.operation = {"key_id": record.key_id, "name": record.name, "roles": list(record.roles)}
    return json_answer({**_key(record), "key": key}, 201)


async def revoke(ex: Exchange) -> Answer:
    """``DELETE admin/keys/{id or name}``: revoke an active key (effective within ``key_cache_seconds``)."""
    assert ex.path_id is not None
    record = await ex.lane.store.revoke_key(ex.path_id, now_iso())
    if record is None:
        raise not_found(f"No active key named or with id '{ex.path_id}' in this lane.", "key_not_found")
    ex.operation = {"key_id": record.key_id, "name": record.name, "revoked": True}
    return json_answer(_key(record))


class Reload:
    """``POST admin/reload``: read the configuration again and put this lane's pack in force."""

    def __init__(self, lanes: LaneSet) -> None:
        self._lanes = lanes

    async def __call__(self, ex: Exchange) -> Answer:
        try:
            result = await self._lanes.reload([ex.lane.name], ex.principal, "reload")
        except ReloadRefused as refused:
            type_ = "service_unavailable" if refused.status >= 500 else "invalid_request_error"
            raise Refusal(refused.status, refused.message, type=type_, code=refused.code,
                          extra={"problems": refused.problems} if refused.problems else None) from None
        change = result.changes[0]
        ex.operation = {"pack_before": change.before, "pack_after": change.after, "changed": change.changed}
        return json_answer({"lane": change.lane, "changed": change.changed, "recorded": change.recorded,
                            "pack": {"name": change.pack, "version": change.version, "sha256": change.after},
                            "previous_sha256": change.before, "notes": result.notes})
