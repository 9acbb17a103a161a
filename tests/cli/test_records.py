"""lanegate records: a lane's record of processing, from its configuration and its ledger."""

from __future__ import annotations

import orjson
import yaml
from typer.testing import CliRunner

from lanegate.cli import app
from tests.governance.data import lane_pack, registry


def _pack(url: str) -> str:
    doc = yaml.safe_load(lane_pack("eu", "eu-west-1", url=url, data_classes=["personal", "health"]))
    doc["lane"].update({"allowed_regions": ["eu-west-1", "eu-west-2"], "controller": "Example Health GmbH",
                        "purposes": ["discharge-letter drafting"],
                        "transfers": [{"region": "eu-west-2", "legal_basis": "UK adequacy decision (2021)"}]})
    doc["sinks"] = [{"id": "siem", "type": "jsonl", "region": "eu-west-2", "path": "events.jsonl"}]
    return yaml.safe_dump(doc, sort_keys=False)


def test_the_record_lists_recipients_transfers_and_what_the_ledger_shows(gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"registry": registry(), "eu": _pack(eu.url)})
    gw.client("eu", default_headers={"x-lanegate-purpose": "discharge-letters"}).chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hello"}])
    result = CliRunner().invoke(app, ["records", "--lane", "eu", "--config", str(gw.config_dir), "--json"])
    assert result.exit_code == 0, result.output
    record = orjson.loads(result.stdout)
    assert record["controller"] == "Example Health GmbH" and record["data_classes"] == ["health", "personal"]
    assert [(r["kind"], r["id"], r["region"]) for r in record["recipients"]] == [
        ("model provider", "eu-a", "eu-west-1"), ("log sink (jsonl)", "siem", "eu-west-2")]
    assert record["transfers"] == [{"recipient": "siem", "region": "eu-west-2",
                                    "legal_basis": "UK adequacy decision (2021)"}]
    assert record["models"] == [{"model": "clinical-notes@2.1", "licence": "Apache-2.0"}]
    ledger = record["ledger"]
    assert ledger["served"] == 1 and ledger["purposes_declared"] == {"discharge-letters": 1}
    assert ledger["requests_by_region"] == {"eu-west-1 (eu-a)": 1}
    assert len(ledger["configurations_in_force"]) == 1

    markdown = CliRunner().invoke(app, ["records", "--lane", "eu", "--config", str(gw.config_dir)]).stdout
    assert markdown.startswith("# Record of processing — lane eu (EU)")
    assert "- siem in eu-west-2: UK adequacy decision (2021)" in markdown
    assert "| model provider | eu-a | eu-west-1 |" in markdown


def test_a_transfer_must_name_an_allowed_region(tmp_path):
    doc = yaml.safe_load(lane_pack("eu", "eu-west-1", model=None))
    doc["lane"]["transfers"] = [{"region": "us-east-1", "legal_basis": "SCCs"}]
    (tmp_path / "eu.yaml").write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(app, ["check", "--config", str(tmp_path)])
    assert result.exit_code == 1 and "region 'us-east-1' is not in allowed_regions" in result.stdout
