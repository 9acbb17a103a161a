"""The optional named-entity model: a real spaCy pipeline (rule-based entities, saved to disk and loaded the
way a pack loads one) feeding the detector, the stage and the loader."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy

from lanegate.config import ConfigError, load_sources
from lanegate.pii import DEFAULT_ENTITIES, Detector
from lanegate.pii.ner import ModelUnavailable, SpacyModel, load_model
from tests.packs import pack, target


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An English pipeline whose entity ruler knows two persons and two places."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([  # type: ignore[attr-defined]
        {"label": "PERSON", "pattern": "Ada Lovelace"},
        {"label": "PERSON", "pattern": [{"LOWER": "grace"}, {"LOWER": "hopper"}]},
        {"label": "GPE", "pattern": "Lyon"},
        {"label": "FAC", "pattern": "Heathrow Airport"},
    ])
    path = tmp_path_factory.mktemp("ner") / "pipeline"
    nlp.to_disk(path)
    return path


def _spans(text: str, detector: Detector) -> list[tuple[str, str]]:
    return [(f.entity, text[f.start : f.end]) for f in detector.detect(text)]


def test_model_findings_join_the_pattern_findings(pipeline: Path) -> None:
    model = SpacyModel(str(pipeline), frozenset({"PERSON", "LOCATION"}))
    detector = Detector(DEFAULT_ENTITIES, model=model)
    text = "Ada Lovelace flies from Heathrow Airport to Lyon; write to ada@example.org."
    assert _spans(text, detector) == [("PERSON", "Ada Lovelace"), ("LOCATION", "Heathrow Airport"),
                                      ("LOCATION", "Lyon"), ("EMAIL_ADDRESS", "ada@example.org")]


def test_model_spans_map_back_over_evasion_characters(pipeline: Path) -> None:
    detector = Detector(DEFAULT_ENTITIES, model=load_model("spacy", str(pipeline), frozenset({"PERSON"})))
    wide = "".join(chr(ord(c) + 0xFEE0) for c in "GRACE")  # full-width letters
    text = f"ask Grace\u200b Hopper, {wide} HOPPER or anyone in Lyon"
    assert _spans(text, detector) == [("PERSON", "Grace\u200b Hopper"), ("PERSON", f"{wide} HOPPER")]


def test_only_the_types_asked_for_are_reported(pipeline: Path) -> None:
    detector = Detector(["EMAIL_ADDRESS"], model=SpacyModel(str(pipeline), frozenset({"LOCATION"})))
    assert _spans("Ada Lovelace lives in Lyon", detector) == [("LOCATION", "Lyon")]


def test_a_model_that_is_not_installed_is_refused_with_the_fix() -> None:
    with pytest.raises(ModelUnavailable, match="python -m spacy download xx_not_a_pipeline"):
        SpacyModel("xx_not_a_pipeline", frozenset({"PERSON"}))
    with pytest.raises(ModelUnavailable, match="available backend is 'spacy'"):
        load_model("flair", "x", frozenset({"PERSON"}))


def _ner_pack(url: str, **options: object) -> str:
    return pack("eu", ["eu-central-1"], [target("eu-a", url, "eu-central-1")],
                chain=["pii-detector", "data-routing-policy", "audit-logger"], stages={"pii-detector": options})


def test_pack_errors_name_the_key_and_the_fix(tmp_path: Path, pipeline: Path) -> None:
    def problems(**options: object) -> str:
        try:
            load_sources([(tmp_path / "eu.yaml", _ner_pack("http://127.0.0.1:9", **options))], base=tmp_path)
        except ConfigError as exc:
            return str(exc)
        return ""

    missing = problems(ner={"model": "xx_not_a_pipeline"})
    assert "policy.pii-detector.ner.model" in missing and "spacy download" in missing
    assert "found only by a named-entity model" in problems(entities={"LOCATION": "block"})
    assert problems(ner={"model": str(pipeline)}, entities={"LOCATION": "block"}) == ""


def test_a_model_directory_is_found_relative_to_the_pack(tmp_path: Path, pipeline: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "ruler").symlink_to(pipeline, target_is_directory=True)
    loaded = load_sources([(tmp_path / "eu.yaml", _ner_pack("http://127.0.0.1:9", ner={"model": "./models/ruler"}))],
                          base=tmp_path)
    [lane] = loaded.lanes.values()
    assert lane.pii is not None and lane.pii.ner is not None
    assert lane.pii.ner.model == str((tmp_path / "models" / "ruler").resolve())


def test_the_provider_receives_persons_and_places_redacted(gateway, upstream, pipeline: Path) -> None:
    eu = upstream("eu")
    gw = gateway({"eu": _ner_pack(eu.url, ner={"model": str(pipeline)}, entities={"LOCATION": "mask"},
                                  mask_keep=2)})
    gw.client("eu").chat.completions.create(model="chat", messages=[
        {"role": "user", "content": "Book Ada Lovelace on a flight to Lyon."}])
    sent = eu.fake.requests()[-1].json()["messages"][0]["content"]
    assert sent == "Book [PERSON] on a flight to **on."
    [record] = gw.records("eu")
    stage = next(s for s in record["stages"] if s["stage"] == "pii-detector")
    assert stage["detail"]["entities"] == {"LOCATION": {"count": 1, "action": "mask"},
                                           "PERSON": {"count": 1, "action": "redact"}}


def test_only_entity_components_and_the_layers_they_listen_to_run(tmp_path: Path) -> None:
    """A pipeline like spaCy's trained ones: a shared tok2vec that a tagger and the ner listen to, and a
    sentencizer. The tagger and the sentencizer are switched off; the ner and its tok2vec stay."""
    nlp = spacy.blank("en")
    listener = {"@architectures": "spacy.Tok2VecListener.v1", "width": 96, "upstream": "*"}
    nlp.add_pipe("tok2vec")
    nlp.add_pipe("tagger", config={"model": {"@architectures": "spacy.Tagger.v2", "tok2vec": listener}})
    ner = nlp.add_pipe("ner", config={"model": {"@architectures": "spacy.TransitionBasedParser.v2",
                                                "state_type": "ner", "extra_state_tokens": False,
                                                "hidden_width": 16, "maxout_pieces": 2, "use_upper": True,
                                                "tok2vec": listener}})
    nlp.add_pipe("sentencizer")
    ner.add_label("PERSON")  # type: ignore[attr-defined]
    nlp.get_pipe("tagger").add_label("NN")  # type: ignore[attr-defined]
    nlp.initialize()
    nlp.to_disk(tmp_path / "trained")
    model = SpacyModel(str(tmp_path / "trained"), frozenset({"PERSON"}))
    assert model._nlp.pipe_names == ["tok2vec", "ner"]
    assert sorted(model._nlp.disabled) == ["sentencizer", "tagger"]
    model.find("An untrained model still runs end to end.")


def test_a_rule_only_pipeline_keeps_its_ruler(pipeline: Path) -> None:
    assert SpacyModel(str(pipeline), frozenset({"PERSON"}))._nlp.pipe_names == ["entity_ruler"]
