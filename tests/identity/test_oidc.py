"""OIDC callers against a local identity provider: accepted tokens, every attack case, rotation, outages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time

import httpx
import jwt
import openai
import pytest
from cryptography.hazmat.primitives import serialization

from lanegate.config import ConfigError, load_sources
from lanegate.testing.idp import SigningKey
from tests.packs import pack, target

HELLO = [{"role": "user", "content": "hello"}]


def _identity(idp, **oidc) -> dict:
    return {"oidc": {"issuer": idp.issuer, "audience": "lanegate", "region": "eu-central-1",
                     "jwks_min_refresh_seconds": 0.2, **oidc},
            "roles": {"eu-users": ["caller"], "eu-auditors": ["auditor"]}}


@pytest.fixture
def lane(gateway, upstream, idp):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")], identity=_identity(idp)),
                  "us": pack("us", ["us-east-1"], [target("us-a", eu.url, "us-east-1")])})
    gw.upstream = eu
    return gw


def _call(gw, token: str):
    return gw.client("eu", key=token).chat.completions.create(model="chat", messages=HELLO)


def _rejected(gw, token: str) -> dict:
    with pytest.raises(openai.AuthenticationError) as caught:
        _call(gw, token)
    return caught.value.body


def test_a_valid_token_is_served_and_recorded_by_subject_and_issuer(lane, idp, caplog):
    caplog.set_level(logging.DEBUG)
    token = idp.mint(idp.claims(subject="alice@corp"))
    assert _call(lane, token).choices
    record = lane.records("eu")[-1]
    assert record["principal"] == {"kind": "oidc", "subject": "alice@corp", "issuer": idp.issuer, "roles": ["caller"]}
    headers = lane.upstream.fake.requests()[0].headers
    assert token not in str(headers) and token not in str(lane.records("eu")) and token not in caplog.text


def test_es256_tokens_are_accepted_too(lane, idp):
    assert _call(lane, idp.mint(key=idp.keys[1])).choices


@pytest.mark.parametrize(("case", "reason"), [
    ("expired", "expired"), ("not_yet_valid", "not yet valid"), ("wrong_issuer", "issuer"),
    ("wrong_audience", "audience"), ("alg_none", "algorithm"), ("hs256_with_public_key", "algorithm"),
    ("unknown_kid", "unknown signing key"), ("tampered", "signature"), ("no_sub", "claim"), ("garbage", "JWT"),
])
def test_attack_cases_are_rejected(lane, idp, caplog, case, reason):
    caplog.set_level(logging.INFO, logger="lanegate")
    now = int(time.time())
    if case == "expired":
        token = idp.mint(idp.claims(exp=now - 3600, iat=now - 7200, nbf=now - 7200))
    elif case == "not_yet_valid":
        token = idp.mint(idp.claims(nbf=now + 3600, iat=now))
    elif case == "wrong_issuer":
        token = idp.mint(idp.claims(iss="https://evil.example"))
    elif case == "wrong_audience":
        token = idp.mint(idp.claims(aud="another-service"))
    elif case == "alg_none":
        token = jwt.encode(idp.claims(), None, algorithm="none", headers={"kid": idp.keys[0].kid})
    elif case == "hs256_with_public_key":
        public_pem = idp.keys[0].private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": idp.keys[0].kid}).encode()).rstrip(b"=")
        body = base64.urlsafe_b64encode(json.dumps(idp.claims()).encode()).rstrip(b"=")
        signature = base64.urlsafe_b64encode(hmac.new(public_pem, header + b"." + body, hashlib.sha256).digest())
        token = (header + b"." + body + b"." + signature.rstrip(b"=")).decode()
    elif case == "unknown_kid":
        token = idp.mint(key=SigningKey.generate("RS256"))
    elif case == "tampered":
        head, payload, sig = idp.mint().split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["groups"] = ["eu-auditors", "eu-users"]
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        token = f"{head}.{forged}.{sig}"
    elif case == "no_sub":
        claims = idp.claims()
        del claims["sub"]
        token = idp.mint(claims)
    else:
        token = "not-a-token"
    body = _rejected(lane, token)
    assert body == {"message": "Invalid or expired access token.", "type": "authentication_error",
                    "code": "invalid_token", "param": None}  # one answer for every case: nothing to probe
    assert reason in caplog.text  # the precise reason is logged for operators
    assert lane.upstream.fake.requests() == []
    assert lane.records("eu")[-1]["error_code"] == "invalid_token"


def test_a_principal_without_the_caller_role_is_forbidden_but_may_ask_whoami(lane, idp):
    token = idp.mint(idp.claims(subject="audrey", groups=["eu-auditors"]))
    with pytest.raises(openai.PermissionDeniedError) as caught:
        _call(lane, token)
    assert caught.value.body["code"] == "role_required"
    whoami = httpx.get(f"{lane.url}/lanes/eu/v1/whoami", headers={"authorization": f"Bearer {token}"}).json()
    assert whoami["subject"] == "audrey" and whoami["roles"] == ["auditor"]
    assert whoami["lanes"] == {"eu": ["auditor"]} and whoami["groups"] == ["eu-auditors"]


def test_a_token_is_not_a_key_of_another_lane(lane, idp):
    token = idp.mint()
    with pytest.raises(openai.AuthenticationError):
        lane.client("us", key=token).chat.completions.create(model="chat", messages=HELLO)


def test_key_rotation_mid_run(lane, idp):
    old = idp.keys[0]
    assert _call(lane, idp.mint(key=old)).choices
    new = idp.rotate()
    time.sleep(0.25)  # past the minimum refresh interval
    assert _call(lane, idp.mint(key=new)).choices  # the unknown kid triggers a refresh
    assert _rejected(lane, idp.mint(key=old))["code"] == "invalid_token"  # dropped by the issuer, dropped here


def test_refreshes_for_unknown_keys_are_rate_limited(gateway, upstream, idp):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")],
                             identity=_identity(idp, jwks_min_refresh_seconds=30))})
    assert _call(gw, idp.mint()).choices
    assert idp.jwks_fetches == 1
    for _ in range(20):  # a flood of made-up key ids
        _rejected(gw, idp.mint(key=SigningKey.generate("RS256")))
    assert idp.jwks_fetches == 1


def test_jwks_down_fails_closed_for_unknown_keys_while_cached_keys_work(lane, idp):
    token = idp.mint()
    assert _call(lane, token).choices
    idp.down = True
    assert _call(lane, idp.mint()).choices  # cached key still valid
    time.sleep(0.25)
    assert _rejected(lane, idp.mint(key=SigningKey.generate("RS256")))["code"] == "invalid_token"


def test_cached_keys_expire_when_the_jwks_stays_down(gateway, upstream, idp):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")],
                             identity=_identity(idp, jwks_cache_seconds=0.3))})
    assert _call(gw, idp.mint()).choices
    idp.down = True
    time.sleep(0.4)
    assert _rejected(gw, idp.mint())["code"] == "invalid_token"


def test_nested_groups_claim(gateway, upstream, idp):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")],
                             identity=_identity(idp, groups_claim="realm_access.roles"))})
    claims = idp.claims(groups=[])
    claims["realm_access"] = {"roles": ["eu-users"]}
    assert _call(gw, idp.mint(claims)).choices


def test_purpose_header_is_required_when_the_lane_says_so_and_recorded(gateway, upstream, idp):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")],
                             identity={**_identity(idp), "require_purpose": True})})
    token = idp.mint()
    with pytest.raises(openai.BadRequestError) as caught:
        _call(gw, token)
    assert caught.value.body["code"] == "purpose_required"
    client = gw.client("eu", key=token, default_headers={"x-lanegate-purpose": "customer-support"})
    assert client.chat.completions.create(model="chat", messages=HELLO).choices
    assert gw.records("eu")[-1]["purpose"] == "customer-support"
    free_text = gw.client("eu", key=token, default_headers={"x-lanegate-purpose": "help Jane Roe with her loan"})
    with pytest.raises(openai.BadRequestError):
        free_text.chat.completions.create(model="chat", messages=HELLO)
    assert "Jane" not in str(gw.records("eu"))


def _load(tmp_path, identity):
    text = pack("eu", ["eu-central-1"], [target("eu-a", "http://127.0.0.1:9", "eu-central-1")], identity=identity)
    return load_sources([(tmp_path / "eu.yaml", text)], base=tmp_path)


def test_identity_configuration_is_checked_at_load(tmp_path):
    oidc = {"issuer": "https://idp.eu.example", "audience": "lanegate", "region": "us-east-1"}
    with pytest.raises(ConfigError, match=r"identity\.oidc\.region: the identity provider is in region 'us-east-1'"):
        _load(tmp_path, {"oidc": oidc})
    with pytest.raises(ConfigError, match=r"identity\.oidc\.algorithms"):
        _load(tmp_path, {"oidc": {**oidc, "region": "eu-central-1", "algorithms": ["HS256"]}})
    with pytest.raises(ConfigError, match="https"):
        _load(tmp_path, {"oidc": {**oidc, "region": "eu-central-1", "issuer": "http://idp.eu.example"}})
    with pytest.raises(ConfigError, match=r"identity\.roles"):
        _load(tmp_path, {"roles": {"eu-users": ["superuser"]}})


def test_whoami_command_shows_what_a_token_resolves_to(lane, idp):
    from typer.testing import CliRunner

    from lanegate.cli import app

    token = idp.mint(idp.claims(subject="carol", groups=["eu-users", "eu-auditors", "unmapped"]))
    result = CliRunner().invoke(app, ["whoami", "--config", str(lane.config_dir), "--lane", "eu", "--token", token])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["subject"] == "carol" and shown["roles"] == ["auditor", "caller"]
    assert shown["lanes"] == {"eu": ["auditor", "caller"]} and "unmapped" in shown["groups"]
    bad = CliRunner().invoke(app, ["whoami", "--config", str(lane.config_dir), "--lane", "eu", "--token", "x.y.z"])
    assert bad.exit_code == 1 and "invalid_token" in bad.output
