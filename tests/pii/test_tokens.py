"""Restoring tokens: whole texts and streams split anywhere (property-based)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from lanegate.pii.tokens import MAX_TOKEN, StreamRestorer, restore, token

VALUES = {token("EMAIL_ADDRESS", 1): "jane@example.com", token("PHONE_NUMBER", 12): "+44 20 7946 0958",
          token("CREDIT_CARD", 3): "4111 1111 1111 1111"}
pieces = st.lists(st.one_of(st.sampled_from([*VALUES, "<", ">", "<EMAIL", "_1", "<UNKNOWN_7>"]),
                            st.text(alphabet="ab <>_19XZ\n", max_size=12)), max_size=30)


def test_known_tokens_are_replaced_and_unknown_ones_left():
    text = "mail <EMAIL_ADDRESS_1>, not <EMAIL_ADDRESS_2> or <b>"
    assert restore(text, VALUES) == "mail jane@example.com, not <EMAIL_ADDRESS_2> or <b>"


@given(pieces, st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_a_stream_split_anywhere_restores_exactly_like_the_whole_text(parts, cuts):
    whole = "".join(parts)
    bounds = sorted({0, len(whole), *(c % (len(whole) + 1) for c in cuts)})
    restorer = StreamRestorer(VALUES)
    streamed = "".join(restorer.feed(whole[a:b]) for a, b in pairwise(bounds))
    assert streamed + restorer.flush() == restore(whole, VALUES)


@given(pieces)
def test_a_stream_holds_back_at_most_one_possible_token(parts):
    restorer = StreamRestorer(VALUES)
    for part in parts:
        restorer.feed(part)
        assert len(restorer._pending) < MAX_TOKEN
