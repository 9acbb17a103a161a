"""Registry changes are configuration changes: recorded in the ledger of each lane they affect, before they
apply, with the digests before and after."""

from __future__ import annotations

import yaml

from tests.governance.data import BASE, CLINICAL, EHR, lane_pack, registry


def _changes(gw, lane: str) -> list[dict]:
    return [r for r in gw.records(lane, config_changes=True) if r["decision"] == "config_changed"]


def test_a_registry_change_is_recorded_in_the_lanes_it_affects(gateway, upstream):
    eu, us = upstream("eu"), upstream("us")
    gw = gateway({"registry": registry(), "eu": lane_pack("eu", "eu-west-1", url=eu.url),
                  "us": lane_pack("us", "us-east-1", url=us.url, model=None)})
    [started] = _changes(gw, "eu")
    assert started["registry"]["models"] == ["clinical-notes@2.1"]
    assert started["registry"]["pack_file_sha256"] != started["pack"]["sha256"]
    [us_started] = _changes(gw, "us")
    assert "registry" not in us_started  # the us lane names no registry model

    described = {**CLINICAL, "description": "summarises clinical notes"}
    (gw.config_dir / "registry.yaml").write_text(registry(models=[BASE, described]))
    admin = gw.http("eu", gw.add_key("eu", "lane-admin", ("admin",)))
    assert admin.post("admin/reload").json()["changed"] is True
    first, second = _changes(gw, "eu")
    assert second["previous_pack_sha256"] == first["pack"]["sha256"]
    assert second["registry"]["sha256"] != first["registry"]["sha256"]
    assert second["registry"]["pack_file_sha256"] == first["registry"]["pack_file_sha256"]
    assert len(_changes(gw, "us")) == 1  # unaffected lanes record nothing


def test_a_registry_change_that_forbids_a_served_model_is_refused_and_nothing_changes(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"registry": registry(), "eu": lane_pack("eu", "eu-west-1", url=eu.url)})
    narrowed = {**EHR, "allowed_regions": {"health": ["eu-central-1"]}}
    (gw.config_dir / "registry.yaml").write_text(yaml.safe_dump(yaml.safe_load(registry(datasets=[narrowed]))))
    admin = gw.http("eu", gw.add_key("eu", "lane-admin", ("admin",)))
    refused = admin.post("admin/reload")
    assert refused.status_code >= 400
    assert "dataset ehr-eu-2024 allows only eu-central-1" in refused.text
    assert len(_changes(gw, "eu")) == 1
    assert gw.client("eu").chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
