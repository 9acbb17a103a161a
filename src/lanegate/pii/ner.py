"""An optional named-entity model for what patterns find poorly: persons and places.

The default install detects with patterns only, offline, with no model. A pack that asks for a model
(``pii-detector.ner``) gets one loaded once per lane configuration; its findings join the patterns' and
overlaps are resolved the same way (higher score, then longer span). The spaCy backend needs the ``ner``
extra (``pip install 'lanegate[ner]'``) and an installed spaCy pipeline (a package name such as
``en_core_web_sm`` or a directory written by ``nlp.to_disk``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any, Protocol

from lanegate.pii.entities import Finding

#: spaCy's labels (OntoNotes and WikiNER schemes) and the entity types they become.
SPACY_LABELS: dict[str, str] = {
    "PERSON": "PERSON", "PER": "PERSON",
    "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION",
}
#: The score a model's finding carries: above a bare digit shape, below a checksum-validated value.
MODEL_SCORE = 0.85


class EntityModel(Protocol):
    """Finds entities in text.

    Contract: ``find`` is a pure function of ``text`` (no state kept between calls, safe to call from several
    threads); spans index ``text`` as given; only types from ``entities`` are returned. It may take
    milliseconds, so callers on the event loop run it in a worker thread.
    """

    entities: frozenset[str]

    def find(self, text: str) -> list[Finding]: ...


class ModelUnavailable(Exception):
    """The pack asks for a model this installation does not have; the message says how to get it."""


def unavailable_reason(backend: str, model: str) -> str | None:
    """Why ``model`` cannot be loaded here, without loading it (``None``: it can be)."""
    if backend != "spacy":
        return f"unknown backend '{backend}'; the available backend is 'spacy'"
    if importlib.util.find_spec("spacy") is None:
        return "spaCy is not installed; install the extra: pip install 'lanegate[ner]'"
    if Path(model).is_dir() or importlib.util.find_spec(model) is not None:
        return None
    return (f"spaCy pipeline '{model}' is not installed; install it (python -m spacy download {model}) or give "
            "the directory of a saved pipeline")


class SpacyModel:
    """A spaCy pipeline's entities, mapped through :data:`SPACY_LABELS` and kept to ``entities``."""

    def __init__(self, model: str, entities: frozenset[str]) -> None:
        reason = unavailable_reason("spacy", model)
        if reason is not None:
            raise ModelUnavailable(reason)
        import spacy

        self.entities = entities
        self._nlp: Any = spacy.load(model, exclude=["parser", "lemmatizer", "textcat"])
        _entity_components_only(self._nlp)

    def find(self, text: str) -> list[Finding]:
        found = []
        for ent in self._nlp(text).ents:
            entity = SPACY_LABELS.get(ent.label_)
            if entity in self.entities:
                found.append(Finding(entity, ent.start_char, ent.end_char, MODEL_SCORE))
        return found


#: spaCy factories whose components set a document's entities.
ENTITY_FACTORIES = frozenset({"ner", "beam_ner", "entity_ruler"})


def _entity_components_only(nlp: Any) -> None:
    """Leave on only the components that find entities and the shared embedding layers they listen to: taggers,
    parsers and lemmatizers cost time (about 40% of ``en_core_web_sm``'s) and add nothing here. A pipeline
    without a known entity component is left as it is."""
    keep = {name for name in nlp.pipe_names if nlp.get_pipe_meta(name).factory in ENTITY_FACTORIES}
    if not keep:
        return
    keep |= {name for name, pipe in nlp.pipeline if keep & set(getattr(pipe, "listening_components", ()))}
    for name in nlp.pipe_names:
        if name not in keep:
            nlp.disable_pipe(name)


def load_model(backend: str, model: str, entities: frozenset[str]) -> EntityModel:
    """The model a pack asks for; :class:`ModelUnavailable` when it cannot be loaded here."""
    if backend != "spacy":
        raise ModelUnavailable(str(unavailable_reason(backend, model)))
    return SpacyModel(model, entities)
