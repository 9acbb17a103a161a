"""The ``pii-detector`` stage: find personal data in every text of a request and redact, mask or hash it
before anything leaves the lane — or refuse the request (``block``).

Texts inspected (:mod:`lanegate.policy.texts`): chat messages' content (strings and text parts), ``name``
fields and tool-call arguments; embeddings input (a string or a list of strings); ``user``, ``metadata``
values and a ``prediction``'s content. Content parts other than text (images, audio, files) and
token-id input cannot be inspected and are refused while this stage is on. The record gets, per entity
type, how many values were found and what was done — never a value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lanegate.config.models import PiiDetectorOptions
from lanegate.errors import Refusal
from lanegate.exchange import Exchange, StageOutcome
from lanegate.pii import DEFAULT_ENTITIES, HEALTHCARE_ENTITIES, PCI_ENTITIES, Detector
from lanegate.pii.entities import Finding
from lanegate.pii.ner import load_model
from lanegate.pii.operators import OperatorSettings, apply
from lanegate.pii.vault import TokenVault
from lanegate.policy.memo import SIZE, Memo, caller_of
from lanegate.policy.texts import request_texts


class PiiDetectorStage:
    name = "pii-detector"

    def __init__(self, options: PiiDetectorOptions, hash_key: Callable[[], bytes],
                 vault: Callable[[], TokenVault | None] = lambda: None, memo_entries: int = SIZE) -> None:
        entities = (DEFAULT_ENTITIES + (HEALTHCARE_ENTITIES if options.healthcare_mode else ())
                    + (PCI_ENTITIES if options.pci_mode else ()))
        model = (load_model(options.ner.backend, options.ner.model, frozenset(options.ner.entities))
                 if options.ner is not None else None)
        self.detector = Detector(entities, options.languages, options.allow_list, model)
        self._options = options
        self._hash_key = hash_key
        self._vault = vault
        self._settings: OperatorSettings | None = None
        self._tokenizes = options.action == "tokenize" or "tokenize" in options.entities.values()
        self.memo: Memo[tuple[Finding, ...]] = Memo(memo_entries)

    def settings(self) -> OperatorSettings:
        """The operators' settings, kept once the lane's secret has been read (the store is open)."""
        if self._settings is not None:
            return self._settings
        o = self._options
        settings = OperatorSettings(o.action, dict(o.entities), o.redaction.marker_format, o.mask_keep,
                                    self._hash_key())
        if settings.hash_key:
            self._settings = settings
        return settings

    async def on_request(self, exchange: Exchange) -> StageOutcome:
        settings = self.settings()
        texts = list(request_texts(exchange))
        # a text the caller sent recently — a conversation's history, sent again with each turn — is not
        # inspected again; the others are read on a worker thread when long (memo.INLINE_CHARS) or when a
        # language model reads them (milliseconds per text)
        found_in = await self.memo.read(caller_of(exchange), [text for text, _ in texts], self._find,
                                        on_thread=self.detector.model is not None)
        detected = [(text, put, findings) for (text, put), findings in zip(texts, found_in, strict=True) if findings]
        if not detected:
            return StageOutcome(self.name, "continue", {})
        blocked = ({f.entity for _, _, findings in detected for f in findings if settings.action(f.entity) == "block"}
                   if settings.blocks else set())
        tokens = await self._tokenize(exchange, detected, settings) if self._tokenizes and not blocked else {}
        found: dict[str, int] = {}
        for text, put, findings in detected:
            outcome = apply(text, findings, settings, tokens)
            for entity, count in outcome.counts.items():
                found[entity] = found.get(entity, 0) + count
            if not blocked:
                put(outcome.text)
        detail: dict[str, Any] = {"entities": {e: {"count": n, "action": settings.action(e)}
                                               for e, n in sorted(found.items())}}
        if blocked:
            names = sorted(blocked)
            raise Refusal(403, f"The request contains personal data this lane does not send to any provider: "
                          f"{', '.join(names)}.", type="permission_error", code="pii_blocked",
                          extra={"entities": names}, record=detail)
        if self._options.redaction.include_metadata:
            summary = ",".join(f"{e}={n}" for e, n in sorted(found.items()))
            exchange.response_headers.append((b"x-lanegate-pii", summary.encode()))
        if tokens:
            detail["tokenized"] = len(tokens)
        return StageOutcome(self.name, "continue", detail)

    def _find(self, text: str) -> tuple[Finding, ...]:
        return tuple(self.detector.detect(text))

    async def _tokenize(self, exchange: Exchange, detected: Sequence[tuple[str, Any, Sequence[Finding]]],
                        settings: OperatorSettings) -> dict[tuple[str, str], str]:
        """Tokens for every value whose action is tokenize, from the lane's vault (one transaction)."""
        wanted = list(dict.fromkeys((f.entity, text[f.start : f.end]) for text, _, findings in detected
                                    for f in findings if settings.action(f.entity) == "tokenize"))
        if not wanted:
            return {}
        vault = self._vault()
        if vault is None:  # the loader requires a vault key and the lane reads it at start; never pass through
            raise RuntimeError("tokenize is configured but the lane has no vault")
        tokens = await vault.tokenize(exchange.conversation or exchange.request_id, wanted)
        exchange.tokens.update({token: value for (_, value), token in tokens.items()})
        exchange.tokenized = True
        return tokens
