"""Ranks by the vendor's clock (``clock_rank``): later wins, a final state is never undone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from receiver.vendors.base import CLOCK_RANK_EPOCH, clock_rank
from schemas.common import INT32_MAX

NOON = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)


def test_a_later_time_ranks_higher_and_the_same_second_ranks_equal():
    assert clock_rank(NOON + timedelta(seconds=1)) > clock_rank(NOON)
    assert clock_rank(NOON + timedelta(milliseconds=400)) == clock_rank(NOON)


def test_a_final_state_outranks_any_later_non_final_one():
    final = clock_rank(NOON, final=True)
    assert final > clock_rank(NOON + timedelta(days=3650))
    assert clock_rank(NOON + timedelta(seconds=1), final=True) > final


def test_ranks_fit_the_32_bit_column_whatever_the_time():
    for when in (
        datetime(1970, 1, 1, tzinfo=UTC),
        CLOCK_RANK_EPOCH,
        datetime(9999, 1, 1, tzinfo=UTC),
    ):
        for final in (False, True):
            assert 0 <= clock_rank(when, final=final) <= INT32_MAX
    assert clock_rank(datetime(1999, 1, 1, tzinfo=UTC)) == 0
