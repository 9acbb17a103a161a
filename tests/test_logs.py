"""The log pipeline: every line written, in order, formatted off the caller's thread, batched."""

from __future__ import annotations

import asyncio
import io
import logging
import time

import pytest

from lanegate import logs


@pytest.fixture
def stream():
    out = io.StringIO()
    logs.configure("info", out)
    yield out
    logs.configure("info")


def _lines(out: io.StringIO) -> list[str]:
    assert logs._writer is not None
    logs._writer.stop()  # writes what is queued
    return out.getvalue().splitlines()


def test_every_line_is_written_in_order_with_its_lane_and_request(stream):
    log = logging.getLogger("lanegate.routing")
    for index in range(2000):
        log.info("provider selected", extra={"lane": "eu", "request_id": f"req_{index}", "target": "eu-a"})
    lines = _lines(stream)
    assert len(lines) == 2000
    assert [line.split("request_id=")[1].split()[0] for line in lines] == [f"req_{i}" for i in range(2000)]
    assert lines[0].endswith("INFO lanegate.routing: provider selected lane=eu request_id=req_0 target=eu-a")


def test_a_message_keeps_its_arguments_as_they_were_when_logged(stream):
    names = ["eu-a"]
    logging.getLogger("lanegate.routing").warning("targets %s", names)
    names.append("us-a")  # changed before the writer thread may have formatted the line
    assert _lines(stream)[0].endswith("targets ['eu-a']")


def test_records_below_the_level_are_not_written(stream):
    logging.getLogger("lanegate.pipeline").debug("detail")
    logging.getLogger("lanegate.pipeline").error("decision record not written", extra={"lane": "eu"})
    assert [line.split(": ", 1)[1] for line in _lines(stream)] == ["decision record not written lane=eu"]


def test_reconfiguring_writes_what_the_previous_writer_held():
    first = io.StringIO()
    logs.configure("info", first)
    logging.getLogger("lanegate").info("before")
    second = io.StringIO()
    logs.configure("info", second)
    logging.getLogger("lanegate").info("after")
    try:
        assert first.getvalue().rstrip().endswith("before")
        assert _lines(second)[0].endswith("after")
    finally:
        logs.configure("info")


def test_a_closed_stream_drops_lines_without_stopping_the_caller():
    out = io.StringIO()
    logs.configure("info", out)
    out.close()
    try:
        logging.getLogger("lanegate").info("lost")
        assert logs._writer is not None
        logs._writer.stop()
    finally:
        logs.configure("info")


def test_flush_returns_once_every_queued_line_is_written(stream):
    log = logging.getLogger("lanegate.pipeline")
    for index in range(500):
        log.info("line %d", index)
    logs.flush()
    written = stream.getvalue().splitlines()  # read without stopping the writer
    assert len(written) == 500 and written[-1].endswith("line 499")
    log.info("after the flush")
    assert _lines(stream)[-1].endswith("after the flush")


def _written_after_a_pause(out: io.StringIO) -> list[str]:
    """The lines written while the caller's thread sleeps (it lets the writer thread take the interpreter lock,
    as a request's blocking store call does)."""
    time.sleep(0.1)
    return out.getvalue().splitlines()


def test_an_info_line_logged_on_the_event_loop_waits_for_the_end_of_the_step(stream):
    async def request() -> tuple[list[str], list[str]]:
        logging.getLogger("lanegate.routing").info("provider selected", extra={"request_id": "req_1"})
        during = _written_after_a_pause(stream)  # still inside the step that logged it
        await asyncio.sleep(0)  # the step ends
        logs.flush()
        return during, stream.getvalue().splitlines()

    during, after = asyncio.run(request())
    assert during == []
    assert len(after) == 1 and after[0].endswith("provider selected request_id=req_1")


def test_a_warning_on_the_event_loop_is_written_at_once_after_the_lines_held_before_it(stream):
    async def request() -> list[str]:
        log = logging.getLogger("lanegate.pipeline")
        log.info("first")
        log.warning("second")
        return _written_after_a_pause(stream)

    assert [line.split(": ", 1)[1] for line in asyncio.run(request())] == ["first", "second"]


def test_flush_on_the_event_loop_writes_the_lines_held_in_the_current_step(stream):
    async def request() -> list[str]:
        logging.getLogger("lanegate.pipeline").info("held")
        logs.flush()
        return stream.getvalue().splitlines()

    assert [line.split(": ", 1)[1] for line in asyncio.run(request())] == ["held"]


def test_stopping_the_writer_on_the_event_loop_writes_the_lines_held_in_the_current_step(stream):
    async def request() -> list[str]:
        logging.getLogger("lanegate.pipeline").info("held at the end")
        return _lines(stream)  # stops the writer before the step ends

    assert [line.split(": ", 1)[1] for line in asyncio.run(request())] == ["held at the end"]
