"""The ``dlp-filter`` stage: organisation-specific patterns and blocked terms, blocked or redacted in every
text of a request. The record names which rules matched (by their place in the pack) and how often — never
the matched text."""

from __future__ import annotations

from lanegate.config.models import DlpFilterOptions
from lanegate.dlp import DlpMatch, DlpRules
from lanegate.errors import Refusal
from lanegate.exchange import Exchange, StageOutcome
from lanegate.policy.memo import SIZE, Memo, caller_of
from lanegate.policy.texts import request_texts


class DlpFilterStage:
    name = "dlp-filter"

    def __init__(self, options: DlpFilterOptions, memo_entries: int = SIZE) -> None:
        self.rules = DlpRules(options)
        self._options = options
        self.memo: Memo[tuple[DlpMatch, ...]] = Memo(memo_entries)  # a conversation's history is read once

    async def on_request(self, exchange: Exchange) -> StageOutcome:
        matched: dict[str, int] = {}
        action = self._options.action
        texts = list(request_texts(exchange))
        found_in = await self.memo.read(caller_of(exchange), [text for text, _ in texts], self._find)
        for (text, put), found in zip(texts, found_in, strict=True):
            if not found:
                continue
            for match in found:
                matched[match.label] = matched.get(match.label, 0) + 1
            if action == "redact":
                put(DlpRules.redact(text, found))
        # each rule as the answer's record names it: {"count": n, "action": a}
        detail = {"sensitivity_level": self._options.sensitivity_level, "action": action,
                  **({"matches": {rule: {"count": n, "action": action} for rule, n in sorted(matched.items())}}
                     if matched else {})}
        if matched and action == "block":
            rules = sorted(matched)
            raise Refusal(403, "The request contains content this lane does not send to any provider (rules: "
                          f"{', '.join(rules)}).", type="permission_error", code="dlp_blocked",
                          extra={"rules": rules}, record=detail)
        return StageOutcome(self.name, "continue", detail)

    def _find(self, text: str) -> tuple[DlpMatch, ...]:
        return tuple(self.rules.find(text))
