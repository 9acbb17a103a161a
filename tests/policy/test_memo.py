"""The content stages' memo: a caller's texts inspected once, nothing kept of the text, callers kept apart."""

from __future__ import annotations

import asyncio

import pytest

from lanegate.config.models import DlpFilterOptions, PiiDetectorOptions
from lanegate.exchange import Exchange
from lanegate.identity.keys import Principal
from lanegate.ingress.schemas import parse_chat
from lanegate.pii import Detector
from lanegate.policy.dlp_stage import DlpFilterStage
from lanegate.policy.memo import Memo
from lanegate.policy.pii_stage import PiiDetectorStage
from tests.packs import pack, target

HELLO, WORLD = "hello", "world"


class Counting:
    """A ``make`` that counts its calls."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, text: str) -> tuple[str, ...]:
        self.texts.append(text)
        return (text.upper(),)


def test_a_callers_text_is_inspected_once_and_gives_the_same_result_again():
    memo: Memo[tuple[str, ...]] = Memo()
    make = Counting()
    assert memo.get("alice", HELLO, make) == (HELLO.upper(),)
    assert memo.get("alice", HELLO, make) == (HELLO.upper(),)
    assert memo.get("alice", WORLD, make) == (WORLD.upper(),)
    assert make.texts == [HELLO, WORLD]


def test_callers_never_share_an_entry():
    memo: Memo[tuple[str, ...]] = Memo()
    make = Counting()
    for caller in ("alice", "bob", "alice\x00", "ali", "ce"):
        memo.get(caller, "ce" + HELLO, make)
    memo.get("alice", HELLO, make)  # the caller and the text are told apart, however they are cut
    assert len(make.texts) == 6 and len(memo) == 6


def test_the_least_recently_used_entry_goes_first_and_nothing_of_a_text_is_kept():
    memo: Memo[tuple[str, ...]] = Memo(size=2)
    make = Counting()
    one, two, three = "one", "two", "three"
    memo.get("a", one, make)
    memo.get("a", two, make)
    memo.get("a", one, make)  # used again: the second is now the oldest
    memo.get("a", three, make)
    memo.get("a", one, make)
    memo.get("a", two, make)
    assert make.texts == [one, two, three, two] and len(memo) == 2
    assert all(isinstance(key, bytes) and len(key) == 32 for key in memo._entries)
    assert not any(b"one" in key or b"two" in key for key in memo._entries)


def test_a_memo_of_size_zero_keeps_nothing():
    memo: Memo[tuple[str, ...]] = Memo(size=0)
    make = Counting()
    memo.get("a", HELLO, make)
    memo.get("a", HELLO, make)
    assert make.texts == [HELLO, HELLO] and len(memo) == 0


def _exchange(caller: str, *texts: str) -> Exchange:
    body = b'{"model": "chat", "messages": [' + b",".join(
        b'{"role": "user", "content": "%s"}' % text.encode() for text in texts) + b"]}"
    return Exchange("req_1", lane=None, endpoint="chat.completions", chat=parse_chat(body),  # the stages read no lane
                    principal=Principal("api_key", caller, "key-" + caller, "eu"))


@pytest.mark.parametrize("make_stage", [
    lambda: PiiDetectorStage(PiiDetectorOptions(action="redact"), lambda: b"k" * 32),
    lambda: DlpFilterStage(DlpFilterOptions(detect_patterns=["jane@example\\.com"], action="redact")),
])
def test_a_conversations_history_is_read_once_and_rewritten_every_turn(make_stage, monkeypatch):
    stage = make_stage()
    inspected: list[str] = []
    find = stage._find
    monkeypatch.setattr(stage, "_find", lambda text: inspected.append(text) or find(text))
    first, second = "mail jane@example.com", "and again jane@example.com please"
    turns = [_exchange("alice", first), _exchange("alice", first, second), _exchange("bob", first)]
    for turn in turns:
        asyncio.run(stage.on_request(turn))
    assert inspected == [first, second, first]  # the second turn reads only its new message; bob is read anew
    for turn in turns:
        assert all("jane@example.com" not in m.content for m in turn.chat.messages)


@pytest.mark.parametrize(("settings", "read"), [(None, 3), ("gateway:\n  content_memo_entries: 0\n", 4)])
def test_the_gateway_reads_a_conversations_history_once_unless_set_not_to(settings, read, gateway, upstream,
                                                                          monkeypatch):
    detect = Detector.detect
    texts: list[str] = []
    monkeypatch.setattr(Detector, "detect", lambda self, text: texts.append(text) or detect(self, text))
    eu = upstream("eu")
    lane = pack("eu", ["eu-central-1"], [target("eu-a", eu.url, "eu-central-1")],
                chain=["pii-detector", "data-routing-policy", "audit-logger"], stages={"pii-detector": {}})
    client = gateway({"eu": lane}, settings).client("eu")
    first = {"role": "user", "content": "mail jane@example.com"}
    client.chat.completions.create(model="chat", messages=[first])
    client.chat.completions.create(model="chat", messages=[first, {"role": "assistant", "content": "noted"},
                                                           {"role": "user", "content": "and bob@example.com"}])
    assert len(texts) == read  # turn 2 sends three texts; with the memo, the first was read at turn 1
    sent = [[m["content"] for m in r.json()["messages"]] for r in eu.fake.requests()]
    assert sent == [["mail [EMAIL_ADDRESS]"], ["mail [EMAIL_ADDRESS]", "noted", "and [EMAIL_ADDRESS]"]]
