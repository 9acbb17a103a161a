"""SSE events are split exactly, however the bytes are chunked."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from lanegate.providers.sse import event_data, parse_data, split_events

EVENTS = [b'data: {"a":1}', b'data: {"b":"x\\ny"}', b": comment\ndata: {\"c\":3}", b"data: [DONE]"]


async def _collect(chunks):
    async def gen():
        for chunk in chunks:
            yield chunk

    return [e async for e in split_events(gen())]


@given(st.lists(st.integers(1, 30), max_size=20), st.sampled_from([b"\n\n", b"\r\n\r\n"]))
def test_arbitrary_chunk_boundaries_yield_the_same_events(cuts, terminator):
    stream = b"".join(e.replace(b"\n", terminator[: len(terminator) // 2]) + terminator for e in EVENTS)
    chunks, position = [], 0
    for cut in cuts:
        chunks.append(stream[position : position + cut])
        position += cut
    chunks.append(stream[position:])
    events = asyncio.run(_collect([c for c in chunks if c]))
    assert [event_data(e) for e in events] == [b'{"a":1}', b'{"b":"x\\ny"}', b'{"c":3}', b"[DONE]"]


def test_a_trailing_event_without_terminator_is_still_delivered():
    assert asyncio.run(_collect([b"data: 1\n\ndata: 2"])) == [b"data: 1", b"data: 2"]


def test_parse_data_accepts_objects_only():
    assert parse_data(b'{"x": 1}') == {"x": 1}
    assert parse_data(b"[DONE]") is None and parse_data(b"[1]") is None and parse_data(b"{") is None
