"""The garbage collector's settings for a serving process."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from lanegate import collector
from lanegate.cli.serve import app_factory
from tests.packs import pack, target


@pytest.fixture
def restored_collector() -> Iterator[None]:
    """The test process's collector as it was, whatever the test changed."""
    threshold = gc.get_threshold()
    assert gc.get_freeze_count() == 0, "another test left objects frozen"
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_settle_freezes_what_exists_and_collects_the_young_generation_less_often(restored_collector):
    _, middle, old = gc.get_threshold()
    kept = [[index] for index in range(1000)]  # containers alive before settling
    collector.settle()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == (collector.YOUNG_THRESHOLD, middle, old)
    walked = {id(item) for item in gc.get_objects()}  # what collections still read: none of those
    assert not any(id(entry) in walked for entry in kept)


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_cycles_made_after_settling_are_still_collected_without_being_asked(restored_collector):
    collector.settle()
    first = weakref.ref(_Node())
    young_collections = gc.get_stats()[0]["collections"]
    for _ in range(3 * collector.YOUNG_THRESHOLD):
        _Node()
    assert gc.get_stats()[0]["collections"] > young_collections
    assert first() is None


def test_gateway_settles_the_collector_once_started_and_serves_as_before(restored_collector, gateway, upstream):
    eu = upstream("eu")
    gw = gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])}, settle_collector=True)
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == collector.YOUNG_THRESHOLD
    answer = gw.client("eu").chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content


def test_gateway_leaves_the_collector_alone_unless_asked(restored_collector, gateway, upstream):
    threshold = gc.get_threshold()
    eu = upstream("eu")
    gateway({"eu": pack("eu", ["r1"], [target("eu-a", eu.url, "r1")])})
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold


def test_the_served_gateway_settles_its_collector(tmp_path, monkeypatch):
    (tmp_path / "eu.yaml").write_text(pack("eu", ["r1"], [target("eu-a", "http://127.0.0.1:9", "r1")]))
    monkeypatch.setenv("LANEGATE_CONFIG", str(tmp_path))
    assert app_factory().settle_collector
