"""Admin operations over HTTP: a lane's keys, and reloading its pack — recorded, validated, all or nothing."""

from __future__ import annotations

import threading
import time

import openai
import pytest

from tests.packs import pack, target

HELLO = [{"role": "user", "content": "hello"}]
NO_KEY_CACHE = "gateway:\n  key_cache_seconds: 0\n"


def _lane(url: str, aliases: list[str] | None = None, **extra) -> str:
    return pack("eu", ["eu-central-1"], [target("eu-a", url, "eu-central-1", aliases=aliases)], **extra)


@pytest.fixture
def admin_gateway(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": _lane(eu.url)}, NO_KEY_CACHE)
    return gw, eu, gw.http("eu", gw.add_key("eu", "lane-admin", ("admin",)))


def test_an_admin_creates_lists_and_revokes_keys_and_no_record_holds_a_key(admin_gateway):
    gw, _, admin = admin_gateway
    created = admin.post("admin/keys", json={"name": "billing-app", "roles": ["caller"]})
    assert created.status_code == 201
    key = created.json()["key"]
    assert gw.client("eu", key=key).chat.completions.create(model="chat", messages=HELLO).choices
    listed = admin.get("admin/keys").json()["data"]
    assert {k["name"]: k["roles"] for k in listed} == {"eu-app": ["caller"], "lane-admin": ["admin"],
                                                       "billing-app": ["caller"]}
    assert key not in admin.get("admin/keys").text
    again = admin.post("admin/keys", json={"name": "billing-app"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "key_exists"
    revoked = admin.delete(f"admin/keys/{created.json()['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    with pytest.raises(openai.AuthenticationError):
        gw.client("eu", key=key).chat.completions.create(model="chat", messages=HELLO)
    assert admin.delete("admin/keys/billing-app").json()["error"]["code"] == "key_not_found"
    records = gw.records("eu")
    assert key not in str(records) and key.split("_", 2)[2] not in str(records)  # the secret (it may hold "_")
    made = next(r for r in records if r["endpoint"] == "admin.keys.create" and r["status"] == 201)
    assert made["operation"] == {"key_id": created.json()["id"], "name": "billing-app", "roles": ["caller"]}


def test_key_bodies_are_validated_and_admin_needs_the_admin_role(admin_gateway):
    gw, _, admin = admin_gateway
    for body, param in [({"name": "has space"}, "name"), ({"name": "x", "roles": ["root"]}, "roles.0"),
                        ({"name": "x", "roles": []}, "roles"), ({}, "name")]:
        response = admin.post("admin/keys", json=body)
        assert response.status_code == 400 and response.json()["error"]["param"] == param, response.text
    caller = gw.http("eu", gw.keys["eu"])
    for response in (caller.get("admin/keys"), caller.post("admin/reload"), caller.delete("admin/keys/eu-app")):
        assert response.status_code == 403 and response.json()["error"]["code"] == "role_required"
    wrong = admin.put("admin/keys")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, POST"


def test_a_reload_puts_the_edited_pack_in_force_and_records_who_did_it(admin_gateway):
    gw, eu, admin = admin_gateway
    caller = gw.client("eu")
    with pytest.raises(openai.NotFoundError):
        caller.chat.completions.create(model="assistant", messages=HELLO)
    before = gw.records("eu", config_changes=True)[0]["pack"]["sha256"]
    (gw.config_dir / "eu.yaml").write_text(_lane(eu.url, aliases=["chat", "assistant"]))
    reloaded = admin.post("admin/reload")
    assert reloaded.status_code == 200, reloaded.text
    answer = reloaded.json()
    assert answer["changed"] is True and answer["recorded"] is True and answer["previous_sha256"] == before
    assert caller.chat.completions.create(model="assistant", messages=HELLO).choices
    change = [r for r in gw.records("eu", config_changes=True) if r["decision"] == "config_changed"][-1]
    assert change["reason"] == "reload" and change["previous_pack_sha256"] == before
    assert change["principal"]["name"] == "lane-admin" and change["pack"]["sha256"] == answer["pack"]["sha256"]
    same = admin.post("admin/reload").json()
    assert same["changed"] is False and same["recorded"] is False


def test_an_invalid_pack_is_refused_with_its_problems_and_the_lane_keeps_serving(admin_gateway):
    gw, _, admin = admin_gateway
    path = gw.config_dir / "eu.yaml"
    path.write_text(path.read_text().replace("region: eu-central-1", "region: us-east-1"))
    refused = admin.post("admin/reload")
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid_configuration" and "nothing was changed" in error["message"]
    assert any("eu.yaml:" in p and "providers.targets[0].region" in p for p in error["problems"])
    assert gw.client("eu").chat.completions.create(model="chat", messages=HELLO).choices


def test_a_lane_admin_is_not_shown_another_lanes_problems(gateway, upstream):
    eu, us = upstream("eu"), upstream("us")
    gw = gateway({"eu": _lane(eu.url), "us": pack("us", ["us-east-1"], [target("us-a", us.url, "us-east-1")])})
    admin = gw.http("eu", gw.add_key("eu", "lane-admin", ("admin",)))
    (gw.config_dir / "us.yaml").write_text("pack: [broken\n")
    error = admin.post("admin/reload").json()["error"]
    assert error["code"] == "invalid_configuration" and error.get("problems", []) == []
    assert "1 problem(s) are in files of other lanes" in error["message"] and "us.yaml" not in error["message"]


def test_moving_a_lanes_store_needs_a_restart(admin_gateway, tmp_path):
    gw, eu, admin = admin_gateway
    text = _lane(eu.url).replace("jurisdiction: EU", f"jurisdiction: EU\n  store: sqlite:///{tmp_path / 'other.db'}")
    (gw.config_dir / "eu.yaml").write_text(text)
    refused = admin.post("admin/reload")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "restart_required"
    assert "lane.store" in refused.json()["error"]["message"]


def test_a_request_in_flight_finishes_with_the_pack_it_started_with(admin_gateway):
    gw, eu, admin = admin_gateway
    eu.fake.stream_gate = threading.Event()
    started_sha = gw.records("eu", config_changes=True)[0]["pack"]["sha256"]
    chunks: list[str] = []

    def stream() -> None:
        for chunk in gw.client("eu").chat.completions.create(model="chat", messages=HELLO, stream=True):
            chunks.extend(c.delta.content or "" for c in chunk.choices)

    worker = threading.Thread(target=stream)
    worker.start()
    deadline = time.monotonic() + 20
    while not eu.fake.requests():  # the request is with the provider, its stream held open
        assert time.monotonic() < deadline
        time.sleep(0.01)
    (gw.config_dir / "eu.yaml").write_text(_lane(eu.url, aliases=["chat", "assistant"]))
    assert admin.post("admin/reload").json()["changed"] is True
    eu.fake.stream_gate.set()
    worker.join(20)
    assert "".join(chunks)
    streamed = next(r for r in gw.records("eu") if r["endpoint"] == "chat.completions")
    assert streamed["stream_outcome"] == "completed" and streamed["pack"]["sha256"] == started_sha
