"""One identity provider declared for the whole gateway: which lanes use it, its region checked in each, and
the auditor and admin roles a token's groups give."""

from __future__ import annotations

import pytest
import yaml

from lanegate.config import ConfigError, load_sources
from tests.packs import pack, target

ROLES = {"eu-users": ["caller"], "eu-auditors": ["auditor"], "eu-admins": ["admin"]}


def _settings(issuer: str, region: str = "eu-central-1") -> str:
    return yaml.safe_dump({"gateway": {"identity": {"oidc": {
        "issuer": issuer, "audience": "lanegate", "region": region, "jwks_min_refresh_seconds": 0.2}}}})


def test_lanes_mapping_groups_use_the_gateway_identity_provider(gateway, upstream, idp):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")],
                             identity={"roles": ROLES}),
                  "us": pack("us", ["us-east-1"], [target("us-a", eu.url, "us-east-1")])},
                 _settings(idp.issuer))
    assert gw.config.lanes["eu"].identity.oidc is not None and gw.config.lanes["us"].identity.oidc is None
    auditor = gw.http("eu", idp.mint(idp.claims(subject="ada", groups=["eu-auditors"])))
    assert auditor.get("audit/events").status_code == 200
    assert auditor.get("admin/keys").json()["error"]["code"] == "role_required"
    admin = gw.http("eu", idp.mint(idp.claims(subject="root", groups=["eu-admins"])))
    assert admin.post("admin/keys", json={"name": "svc", "roles": ["auditor"]}).status_code == 201
    assert admin.post("admin/reload").json()["changed"] is False
    token = idp.mint(idp.claims(subject="ada", groups=["eu-auditors"]))
    assert gw.http("us", token).get("models").status_code == 401  # the us lane does not trust this provider
    whoami = gw.http("eu", token).get("whoami").json()
    assert whoami["lanes"] == {"eu": ["auditor"]}
    recorded = [r for r in gw.records("eu") if r["endpoint"] == "admin.keys.create"]
    assert recorded[0]["principal"] == {"kind": "oidc", "subject": "root", "issuer": idp.issuer, "roles": ["admin"]}


def test_the_gateway_identity_provider_must_be_allowed_in_each_lane_that_uses_it(tmp_path):
    eu = pack("eu", ["eu-central-1"], [target("eu-a", "http://127.0.0.1:9", "eu-central-1")],
              identity={"roles": ROLES})
    us = pack("us", ["us-east-1"], [target("us-a", "http://127.0.0.1:9", "us-east-1")])
    sources = [(tmp_path / "eu.yaml", eu), (tmp_path / "us.yaml", us),
               (tmp_path / "gateway.yaml", _settings("https://idp.us.example", "us-east-1"))]
    with pytest.raises(ConfigError) as caught:
        load_sources(sources, base=tmp_path)
    [problem] = caught.value.problems
    assert problem.file.endswith("eu.yaml") and problem.key == "identity.roles"
    assert "gateway.identity.oidc" in problem.message and "us-east-1" in problem.message
