"""The ``pii-detector`` stage: find personal data in every text of a request and redact, mask or hash it
before anything leaves the lane — or refuse the request (``block``).

Texts inspected: chat messages' content (strings and text parts), ``name`` fields and tool-call arguments;
embeddings input (a string or a list of strings). Token-id input cannot be inspected and is refused while
this stage is on. The record gets, per entity type, how many values were found and what was done — never a
value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from lanegate.config.models import PiiDetectorOptions
from lanegate.errors import Refusal, invalid_request
from lanegate.exchange import Exchange, StageOutcome
from lanegate.pii import DEFAULT_ENTITIES, HEALTHCARE_ENTITIES, PCI_ENTITIES, Detector
from lanegate.pii.operators import OperatorSettings, apply

Setter = Callable[[str], None]


class PiiDetectorStage:
    name = "pii-detector"

    def __init__(self, options: PiiDetectorOptions, hash_key: Callable[[], bytes]) -> None:
        entities = (DEFAULT_ENTITIES + (HEALTHCARE_ENTITIES if options.healthcare_mode else ())
                    + (PCI_ENTITIES if options.pci_mode else ()))
        self.detector = Detector(entities, options.languages, options.allow_list)
        self._options = options
        self._hash_key = hash_key

    def settings(self) -> OperatorSettings:
        o = self._options
        return OperatorSettings(o.action, dict(o.entities), o.redaction.marker_format, o.mask_keep, self._hash_key())

    async def on_request(self, exchange: Exchange) -> StageOutcome:
        settings = self.settings()
        found: Counter[str] = Counter()
        blocked: set[str] = set()
        for text, put in _texts(exchange):
            findings = self.detector.detect(text)
            if not findings:
                continue
            outcome = apply(text, findings, settings)
            found.update(outcome.counts)
            blocked |= outcome.blocked
            if not blocked:
                put(outcome.text)
        detail: dict[str, Any] = {"entities": {e: {"count": n, "action": settings.action(e)}
                                               for e, n in sorted(found.items())}} if found else {}
        if blocked:
            names = sorted(blocked)
            raise Refusal(403, f"The request contains personal data this lane does not send to any provider: "
                          f"{', '.join(names)}.", type="permission_error", code="pii_blocked",
                          extra={"entities": names}, record=detail)
        if found and self._options.redaction.include_metadata:
            summary = ",".join(f"{e}={n}" for e, n in sorted(found.items()))
            exchange.response_headers.append((b"x-lanegate-pii", summary.encode()))
        return StageOutcome(self.name, "continue", detail)


def _texts(exchange: Exchange) -> Iterator[tuple[str, Setter]]:
    """Every text of the request with a way to replace it."""
    if exchange.chat is not None:
        for message in exchange.chat.messages:
            if isinstance(message.content, str):
                yield message.content, partial(setattr, message, "content")
            elif isinstance(message.content, list):
                for part in message.content:
                    if part.text is not None:
                        yield part.text, partial(setattr, part, "text")
            if message.name is not None:
                yield message.name, partial(setattr, message, "name")
            for call in message.tool_calls or []:
                if call.function is not None and call.function.arguments is not None:
                    yield call.function.arguments, partial(setattr, call.function, "arguments")
    elif exchange.embeddings is not None:
        request = exchange.embeddings
        if isinstance(request.input, str):
            yield request.input, partial(setattr, request, "input")
            return
        items = list(request.input)
        if not all(isinstance(item, str) for item in items):
            raise invalid_request("This lane inspects embeddings input for personal data and cannot inspect token "
                                  "ids; send the input as text.", "uninspectable_input", "input")
        for index, item in enumerate(items):
            assert isinstance(item, str)

            def put(value: str, i: int = index) -> None:
                items[i] = value
                request.input = items  # type: ignore[assignment]

            yield item, put
