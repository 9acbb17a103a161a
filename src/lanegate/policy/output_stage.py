"""Scanning what the provider answers (``scan_responses: true`` on ``pii-detector`` or ``dlp-filter``).

The answer's message content, refusal and reasoning (:data:`~lanegate.policy.texts.ANSWER_FIELDS`) and its
tool-call arguments go through the stage's own detector and actions. A stream is scanned as it flows: each
text is released only up to the scanner's ``hold`` characters before its end and its ``keep_from`` (the word
at the end, the last words of a blocked term), never inside a word nor in the middle of a match, so a value
split across chunks is caught whole; a private-key block is held until it ends. The end of what was
released is read again before what follows (``LOOK_BEHIND``), so a value is judged with the words before it
that say what it is, as in a buffered answer. Log probabilities are withheld: their tokens repeat the text
as the provider wrote it. A match whose action is ``block`` withholds a buffered answer (``502``) and ends a
stream with that error event before the match is sent.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Protocol

from lanegate.dlp import DlpMatch, DlpRules
from lanegate.errors import Refusal
from lanegate.exchange import Exchange, StageOutcome
from lanegate.pii.detector import Detector
from lanegate.pii.entities import Finding
from lanegate.pii.operators import OperatorSettings, apply
from lanegate.policy.chunks import choice_deltas
from lanegate.policy.stage import StreamFilter
from lanegate.policy.texts import ANSWER_FIELDS, answer_texts

PEM_START = "-----BEGIN"
# characters of a stream a scanner's keep_from may hold back at most: words of a blocked term farther apart
# than this (across separators) are released apart, so that no answer makes each chunk rescan all it has sent
KEEP_AT_MOST = 16384
# characters of a stream already sent that are read again with what follows, as context: the detector looks
# for the words that say what a value is up to 48 characters before it
LOOK_BEHIND = 64


class Scanner(Protocol):
    """What an output stage looks for and what it does with it."""

    name: str
    hold: int  # characters of a stream kept back: longer than any match the scanner expects

    def find(self, text: str, start: int = 0) -> Sequence[Any]:
        """The matches in ``text[start:]``, offsets into it: sorted, not overlapping, each with ``start`` and
        ``end``. What comes before ``start`` is read as context only (the words before a value that say what
        it is); a match that begins there is cut to begin at ``start``."""
        ...

    def keep_from(self, text: str) -> int:
        """Where in ``text`` a match that text still to come may complete can begin, at the earliest, when
        ``hold`` characters do not tell (``len(text)``: they do)."""
        ...

    def rewrite(self, exchange: Exchange, text: str, end: int, found: Sequence[Any]) -> str:
        """``text[:end]`` with the matches of ``found`` that end by ``end`` rewritten, counted in the record;
        raise ``Refusal`` when a match may not be passed on."""
        ...


class PiiScanner:
    name = "pii-detector-output"
    hold = 64  # longer than any value with spaces in it; a private key is held until its END line

    def __init__(self, detector: Detector, settings: Callable[[], OperatorSettings]) -> None:
        self._detector = detector
        self._request_settings = settings

    def settings(self) -> OperatorSettings:
        """The request's operators, with ``tokenize`` turned into ``redact``: an answer's values get no tokens."""
        base = self._request_settings()
        redact = {e: ("redact" if a == "tokenize" else a) for e, a in base.actions.items()}
        return replace(base, default="redact" if base.default == "tokenize" else base.default, actions=redact)

    def find(self, text: str, start: int = 0) -> list[Finding]:
        return [f._replace(start=max(f.start - start, 0), end=f.end - start)
                for f in self._detector.detect(text) if f.end > start]

    def keep_from(self, text: str) -> int:
        # values without white space (tokens, keys, URLs, addresses) may be longer than hold: the word at the
        # end is kept whole; values with spaces in them (numbers written in groups) are shorter than hold
        return _word_start(text, len(text))

    def rewrite(self, exchange: Exchange, text: str, end: int, found: Sequence[Finding]) -> str:
        settings = self.settings()
        outcome = apply(text[:end], [f for f in found if f.end <= end], settings)
        _count(exchange, self.name, "entities", {e: (n, settings.action(e)) for e, n in outcome.counts.items()})
        if outcome.blocked:
            raise Refusal(502, "The provider's answer contained personal data this lane does not pass on: "
                          f"{', '.join(sorted(outcome.blocked))}. The answer was withheld.", type="server_error",
                          code="pii_in_answer", extra={"entities": sorted(outcome.blocked)})
        return outcome.text


class DlpScanner:
    name = "dlp-filter-output"

    def __init__(self, rules: DlpRules) -> None:
        self._rules = rules
        longest = max((len(t) for t in rules.options.blocked_terms), default=0)
        # a match no longer than the hold is never released in part; a pattern without a bound gets 256
        self.hold = min(KEEP_AT_MOST, max(256, 2 * longest, rules.widest_pattern))

    def find(self, text: str, start: int = 0) -> list[DlpMatch]:
        return [replace(m, start=max(m.start - start, 0), end=m.end - start)
                for m in self._rules.find(text) if m.end > start]

    def keep_from(self, text: str) -> int:
        # a term matches across any separators between its words: its last words are kept, however far apart
        return self._rules.term_tail(text)

    def rewrite(self, exchange: Exchange, text: str, end: int, found: Sequence[DlpMatch]) -> str:
        matches = [m for m in found if m.end <= end]
        action = self._rules.options.action
        counts = Counter(m.label for m in matches)
        _count(exchange, self.name, "matches", {rule: (n, action) for rule, n in counts.items()})
        if matches and action == "block":
            rules = sorted(counts)
            raise Refusal(502, f"The provider's answer contained content this lane does not pass on (rules: "
                          f"{', '.join(rules)}). The answer was withheld.", type="server_error",
                          code="dlp_in_answer", extra={"rules": rules})
        return DlpRules.redact(text, matches, end)


class OutputScanStage:
    """A response stage running one scanner over buffered answers and streams."""

    def __init__(self, scanner: Scanner) -> None:
        self.scanner = scanner
        self.name = scanner.name

    async def on_response(self, exchange: Exchange, payload: dict[str, Any]) -> None:
        _drop_logprobs(payload)
        for text, put in answer_texts(payload):
            found = self.scanner.find(text)
            if found:
                put(self.scanner.rewrite(exchange, text, len(text), found))

    def stream_filter(self, exchange: Exchange) -> StreamFilter | None:
        return ScanFilter(self.scanner, exchange)


class ScanFilter:
    """Per-stream state: what each choice's texts (:data:`ANSWER_FIELDS`, keyed -1, -2...) and each of its
    tool calls' arguments (keyed by the call's index) have not yet released, and the end of what they sent."""

    def __init__(self, scanner: Scanner, exchange: Exchange) -> None:
        self._scanner = scanner
        self._exchange = exchange
        self._pending: dict[tuple[int, int], str] = {}
        self._sent: dict[tuple[int, int], str] = {}  # the end of what each has sent, as it was (LOOK_BEHIND)

    def _release(self, key: tuple[int, int], piece: str, final: bool) -> str:
        text = self._pending.get(key, "") + piece
        if final:
            cut = len(text)
        else:  # never inside a word: a context word ("passport") goes out whole or stays with what follows it
            cut = min(max(0, len(text) - self._scanner.hold),
                      max(self._scanner.keep_from(text), len(text) - KEEP_AT_MOST))
            cut = max(_word_start(text, cut), len(text) - KEEP_AT_MOST, 0)
        pem = text.rfind(PEM_START)
        if not final and pem >= 0 and "-----END" not in text[pem:]:
            cut = min(cut, pem)
        sent = self._sent.get(key, "")
        found = self._scanner.find(sent + text, len(sent))
        for match in found:
            if match.start < cut < match.end:
                cut = match.start
        self._pending[key] = text[cut:]
        self._sent[key] = (sent + text[:cut])[-LOOK_BEHIND:]
        return self._scanner.rewrite(self._exchange, text, cut, found) if cut else ""

    def on_event(self, event: dict[str, Any]) -> dict[str, Any] | None:
        _drop_logprobs(event)
        for index, delta, final in choice_deltas(event):
            if delta is not None:
                for slot, field in enumerate(ANSWER_FIELDS):  # keyed -1, -2...: the content's always ends
                    key = (index, -1 - slot)
                    if isinstance(delta.get(field), str) or (final and (slot == 0 or key in self._pending)):
                        delta[field] = self._release(key, delta.get(field) or "", final)
                for call in delta.get("tool_calls") or []:
                    function = call.get("function") if isinstance(call, dict) else None
                    if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                        key = (index, _call_index(call))
                        function["arguments"] = self._release(key, function["arguments"], False)
            if final:
                for key in [k for k in self._pending if k[0] == index and k[1] >= 0]:
                    held = self._release(key, "", True)
                    if held and delta is not None:
                        delta.setdefault("tool_calls", []).append({"index": key[1], "function": {"arguments": held}})
                for key in [k for k in self._pending if k[0] == index]:
                    del self._pending[key]
                    self._sent.pop(key, None)
        return event

    def on_end(self) -> list[dict[str, Any]]:
        """What is still held when the stream ended without a final event for its choice, scanned."""
        events = []
        for index, call in list(self._pending):
            text = self._release((index, call), "", True)
            if not text:
                continue
            delta: dict[str, Any] = {ANSWER_FIELDS[-1 - call]: text} if call < 0 else {
                "tool_calls": [{"index": call, "function": {"arguments": text}}]}
            events.append({"object": "chat.completion.chunk", "choices": [{"index": index, "delta": delta}]})
        self._pending.clear()
        return events


def _drop_logprobs(payload: dict[str, Any]) -> None:
    """Remove each choice's log probabilities: their tokens spell out the answer as the provider wrote it,
    which the scan may have rewritten (an answer or chunk then carries ``"logprobs": null``)."""
    for choice in payload.get("choices") or []:
        if isinstance(choice, dict) and choice.get("logprobs") is not None:
            choice["logprobs"] = None


def _call_index(call: dict[str, Any]) -> int:
    index = call.get("index", 0)
    return index if isinstance(index, int) and index >= 0 else 0


# what a word is made of when a stream is cut: ASCII but white space, Latin letters, full-width forms,
# ideographic full stops (which join a domain name's labels) and invisible characters (what a value or a
# context word may hold); other scripts' characters (Chinese, for one, written without spaces) end a word, so
# that such text streams as it comes
_WORD_CHARS = "!-~\u00a1-\u024f\u3002\uff01-\uff5e\uff61\u200b-\u200f\u2060-\u2064\ufeff"
_IN_WORD = re.compile(f"[{_WORD_CHARS}]")
_WORD_BACKWARDS = re.compile(f"[{_WORD_CHARS}]+")


def _word_start(text: str, position: int) -> int:
    """``position``, or the start of the word of ``text`` it falls inside or ends (``len(text)``: the last
    word's start when the text ends inside one)."""
    if position <= 0 or (position < len(text) and not _IN_WORD.match(text, position)):
        return position
    run = _WORD_BACKWARDS.match(text[position - 1 :: -1])  # read backwards from the character before
    return position - (run.end() if run is not None else 0)


def _count(exchange: Exchange, stage: str, field: str, counts: dict[str, tuple[int, str]]) -> None:
    """Add what the answer held to the record: per entity type or rule, how often and what was done."""
    if not counts:
        return
    outcome = next((s for s in exchange.stages if s.stage == stage), None)
    if outcome is None:
        outcome = StageOutcome(stage, "continue", {field: {}})
        exchange.stages.append(outcome)
    for key, (count, action) in counts.items():
        entry = outcome.detail[field].setdefault(key, {"count": 0, "action": action})
        entry["count"] += count
