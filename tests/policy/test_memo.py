"""The content stages' memo: a caller's texts inspected once, nothing kept of the text, callers kept apart."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from lanegate.config.models import DlpFilterOptions, PiiDetectorOptions
from lanegate.exchange import Exchange
from lanegate.identity.keys import Principal
from lanegate.ingress.schemas import parse_chat
from lanegate.pii import Detector
from lanegate.policy.dlp_stage import DlpFilterStage
from lanegate.policy.memo import INLINE_CHARS, SIZE, Memo
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


def get(memo: Memo[tuple[str, ...]], caller: str, text: str, make: Counting) -> tuple[str, ...]:
    [value] = asyncio.run(memo.read(caller, [text], make))
    return value


def test_a_callers_text_is_inspected_once_and_gives_the_same_result_again():
    memo: Memo[tuple[str, ...]] = Memo()
    make = Counting()
    assert get(memo, "alice", HELLO, make) == (HELLO.upper(),)
    assert get(memo, "alice", HELLO, make) == (HELLO.upper(),)
    assert get(memo, "alice", WORLD, make) == (WORLD.upper(),)
    assert make.texts == [HELLO, WORLD]


def test_callers_never_share_an_entry():
    memo: Memo[tuple[str, ...]] = Memo()
    make = Counting()
    for caller in ("alice", "bob", "alice\x00", "ali", "ce"):
        get(memo, caller, "ce" + HELLO, make)
    get(memo, "alice", HELLO, make)  # the caller and the text are told apart, however they are cut
    assert len(make.texts) == 6 and len(memo) == 6


def test_the_least_recently_used_entry_goes_first_and_nothing_of_a_text_is_kept():
    memo: Memo[tuple[str, ...]] = Memo(size=2)
    make = Counting()
    one, two, three = "one", "two", "three"
    get(memo, "a", one, make)
    get(memo, "a", two, make)
    get(memo, "a", one, make)  # used again: the second is now the oldest
    get(memo, "a", three, make)
    get(memo, "a", one, make)
    get(memo, "a", two, make)
    assert make.texts == [one, two, three, two] and len(memo) == 2
    assert all(isinstance(key, bytes) and len(key) == 32 for key in memo._entries)
    assert not any(b"one" in key or b"two" in key for key in memo._entries)


def test_a_memo_of_size_zero_keeps_nothing():
    memo: Memo[tuple[str, ...]] = Memo(size=0)
    make = Counting()
    get(memo, "a", HELLO, make)
    get(memo, "a", HELLO, make)
    assert make.texts == [HELLO, HELLO] and len(memo) == 0


def test_texts_of_one_request_are_each_found_in_the_memo_or_inspected_in_order():
    memo: Memo[tuple[str, ...]] = Memo()
    make = Counting()
    get(memo, "alice", WORLD, make)
    assert asyncio.run(memo.read("alice", [HELLO, WORLD, "again"], make)) == [("HELLO",), ("WORLD",), ("AGAIN",)]
    assert make.texts == [WORLD, HELLO, "again"]


class OnWhichThread(Counting):
    """A ``make`` that notes whether it ran on the event loop's thread."""

    def __init__(self) -> None:
        super().__init__()
        self.on_loop: list[bool] = []

    def __call__(self, text: str) -> tuple[str, ...]:
        try:
            asyncio.get_running_loop()
            self.on_loop.append(True)
        except RuntimeError:
            self.on_loop.append(False)
        return super().__call__(text)


@pytest.mark.parametrize("size", [SIZE, 0])
def test_short_texts_are_inspected_on_the_event_loop_and_long_ones_on_a_worker_thread(size):
    memo: Memo[tuple[str, ...]] = Memo(size)
    make = OnWhichThread()
    short, long = "s" * (INLINE_CHARS // 2 - 1), "l" * (INLINE_CHARS // 2)
    asyncio.run(memo.read("a", [short, short + "!"], make))  # together one character short of the bound
    asyncio.run(memo.read("a", [long, long + "!"], make))
    assert make.on_loop == [True, True, False, False]


def test_a_long_text_the_memo_holds_is_not_sent_to_a_thread_again():
    memo: Memo[tuple[str, ...]] = Memo()
    make = OnWhichThread()
    history = "h" * INLINE_CHARS
    asyncio.run(memo.read("a", [history], make))
    asyncio.run(memo.read("a", [history, "a new turn"], make))  # only what is new counts towards the bound
    assert make.texts == [history, "a new turn"] and make.on_loop == [False, True]


def test_texts_go_to_a_thread_whatever_their_length_when_asked():
    make = OnWhichThread()
    asyncio.run(Memo().read("a", [HELLO], make, on_thread=True))
    assert make.on_loop == [False]


def test_the_event_loop_serves_others_while_a_long_prompt_is_inspected():
    """The loop goes on turning while the inspection runs on its thread (on the loop, it would not turn once)."""
    memo: Memo[tuple[int, ...]] = Memo()
    started, turns = threading.Event(), []

    def slow(text: str) -> tuple[int, ...]:
        started.set()
        deadline = time.monotonic() + 2
        while len(turns) < 3 and time.monotonic() < deadline:  # busy, as detection is, until the loop has turned
            pass
        return (len(turns),)  # how often the loop turned meanwhile

    async def other_requests() -> None:
        await asyncio.to_thread(started.wait, 5)
        for _ in range(3):
            turns.append(1)
            await asyncio.sleep(0)

    async def both() -> list[tuple[int, ...]]:
        read, _ = await asyncio.gather(memo.read("a", ["x" * INLINE_CHARS], slow), other_requests())
        return read

    assert asyncio.run(both()) == [(3,)]


STAGES = [  # each content stage, redacting what it finds
    lambda: PiiDetectorStage(PiiDetectorOptions(action="redact"), lambda: b"k" * 32),
    lambda: DlpFilterStage(DlpFilterOptions(detect_patterns=["jane@example\\.com"], action="redact")),
]


def _exchange(caller: str, *texts: str) -> Exchange:
    body = b'{"model": "chat", "messages": [' + b",".join(
        b'{"role": "user", "content": "%s"}' % text.encode() for text in texts) + b"]}"
    return Exchange("req_1", lane=None, endpoint="chat.completions", chat=parse_chat(body),  # the stages read no lane
                    principal=Principal("api_key", caller, "key-" + caller, "eu"))


@pytest.mark.parametrize("make_stage", STAGES)
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


@pytest.mark.parametrize("make_stage", STAGES)
def test_a_long_prompt_read_on_a_worker_thread_is_rewritten_all_the_same(make_stage, monkeypatch):
    stage = make_stage()
    threads: list[str] = []
    find = stage._find
    monkeypatch.setattr(stage, "_find", lambda text: threads.append(threading.current_thread().name) or find(text))
    long = "filler " * (INLINE_CHARS // 7) + "mail jane@example.com"
    exchange = _exchange("alice", long)
    outcome = asyncio.run(stage.on_request(exchange))
    assert threads and threads[0] != threading.main_thread().name
    assert outcome.detail and "jane@example.com" not in exchange.chat.messages[0].content
    assert exchange.chat.messages[0].content.startswith("filler filler")


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
