"""Canonical form, sealing and chain verification."""

from __future__ import annotations

import re

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lanegate.audit.chain import GENESIS, NotCanonicalizable, canonical, seal, verify_rows

records = st.dictionaries(st.text(max_size=8), st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=10),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3), max_leaves=8),
    max_size=5)


def _chain(items):
    rows, prev = [], GENESIS
    for seq, item in enumerate(items, 1):
        body, digest = seal(item, seq, prev)
        rows.append((seq, f"req{seq}", body, digest))
        prev = digest
    return rows


def test_canonical_form_sorts_keys_and_has_no_whitespace():
    assert canonical({"b": 1, "a": {"d": [1, "é"], "c": None}}) == '{"a":{"c":null,"d":[1,"é"]},"b":1}'.encode()


def test_floats_and_huge_integers_are_refused():
    with pytest.raises(NotCanonicalizable):
        canonical({"latency": 1.5})
    with pytest.raises(NotCanonicalizable):
        canonical({"n": 2**60})


@pytest.mark.parametrize(("record", "named"), [
    ({"stages": [{"detail": {"ratio": 0.5}}]}, "record.stages[0].detail.ratio: float"),
    ({"a": [1, [2, {"b": b"raw"}]]}, "record.a[1][1].b: bytes"),
    ({"detail": {3: "x"}}, "record.detail: non-string key"),
    ({"ids": [1, -(2**54)]}, "record.ids[1]: integer out of the interoperable range"),
])
def test_a_value_outside_the_subset_is_named_by_its_path_however_deep(record, named):
    with pytest.raises(NotCanonicalizable, match=re.escape(named)):
        canonical(record)


def test_the_largest_exact_integers_and_subclasses_of_allowed_types_are_accepted():
    class Name(str):
        pass

    assert canonical({"n": 2**53, "m": -(2**53), "t": True, "s": Name("x")}) == (
        b'{"m":-9007199254740992,"n":9007199254740992,"s":"x","t":true}')


@given(st.lists(records, max_size=6))
def test_an_untouched_chain_verifies(items):
    report = verify_rows(_chain(items))
    assert report.ok and report.records == len(items)


@given(st.lists(records, min_size=2, max_size=6), st.data())
def test_any_edit_deletion_or_swap_is_caught_at_the_first_affected_record(items, data):
    rows = _chain(items)
    index = data.draw(st.integers(0, len(rows) - 1))
    kind = data.draw(st.sampled_from(["edit", "delete", "swap", "rehash"]))
    seq, rid, body, digest = rows[index]
    if kind == "edit" or kind == "rehash":
        parsed = orjson.loads(body)
        parsed["tampered"] = True
        new_body = canonical(parsed).decode()
        import hashlib

        new_hash = hashlib.sha256(new_body.encode()).hexdigest() if kind == "rehash" else digest
        rows[index] = (seq, rid, new_body, new_hash)
        if kind == "rehash" and index == len(rows) - 1:
            return  # rewriting the newest record and its hash needs a signed checkpoint to detect
    elif kind == "delete":
        del rows[index]
        if index == len(rows):
            return  # truncating the tail likewise needs a checkpoint
    else:
        other = index - 1 if index else index + 1
        rows[index], rows[other] = rows[other], rows[index]
        index = min(index, other)
    report = verify_rows(rows)
    assert not report.ok
    assert report.broken is not None and report.broken.seq in {index + 1, index + 2}


@given(records)
def test_the_gateway_and_the_offline_verifier_agree_on_canonical_form(record):
    from lanegate.evidence.bundle import canonical_line

    assert canonical(record).decode() == canonical_line(record)


class _Label(str):
    pass


class _Count(int):
    pass


_ANYTHING = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**54), 2**54) | st.text(max_size=4) | st.floats(allow_nan=False)
    | st.builds(_Label, st.text(max_size=3)) | st.builds(_Count, st.integers(-(2**54), 2**54)) | st.binary(max_size=2),
    lambda c: st.lists(c, max_size=3) | st.tuples(c) | st.dictionaries(st.text(max_size=3) | st.integers(0, 3), c,
                                                                       max_size=3),
    max_leaves=10)


@given(st.dictionaries(st.text(max_size=4), _ANYTHING, max_size=4))
def test_a_record_is_accepted_exactly_when_every_value_in_it_is_in_the_subset(record):
    """The fast check on every record and the one that names the offending value agree on what passes."""
    from lanegate.audit import chain

    try:
        chain._check(record, "record")
        named = True
    except NotCanonicalizable:
        named = False
    assert chain._valid(record) == named
