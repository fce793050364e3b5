"""A socket's bookkeeping of the room's seqs it delivered (rooms.sequence)."""

import asyncio

from django.test import override_settings

from rooms.sequence import DeliveredSequence


class Filler:
    def __init__(self):
        self.calls = 0

    async def __call__(self):
        self.calls += 1


async def test_frames_in_order_are_delivered_once_and_frames_without_seq_always():
    sequence = DeliveredSequence(Filler())
    sequence.delivered = 4

    assert [sequence.in_sequence(seq) for seq in (5, 6, 5, 4, 0, 0)] == [True, True, False, False, True, True]
    assert sequence.delivered == 6
    assert not sequence.has_gap


async def test_a_frame_beyond_a_gap_is_delivered_and_the_gap_filled_later_from_the_database():
    filler = Filler()
    with override_settings(ROOMS={"GAP_FILL_DELAY": 0.05}):
        sequence = DeliveredSequence(filler)
        assert sequence.in_sequence(1)
        assert sequence.in_sequence(3)
        assert not sequence.in_sequence(3)
        assert (sequence.delivered, sequence.has_gap) == (1, True)

        await asyncio.sleep(0.2)

    assert filler.calls == 1


async def test_the_missing_frame_arriving_closes_the_gap_and_nothing_is_filled():
    filler = Filler()
    with override_settings(ROOMS={"GAP_FILL_DELAY": 0.05}):
        sequence = DeliveredSequence(filler)
        for seq in (1, 3, 4, 2):
            assert sequence.in_sequence(seq)
        assert (sequence.delivered, sequence.has_gap) == (4, False)

        await asyncio.sleep(0.2)

    assert filler.calls == 0


async def test_too_many_frames_beyond_a_gap_fill_it_at_once():
    filler = Filler()
    with override_settings(ROOMS={"GAP_FILL_DELAY": 60, "MAX_FRAMES_AHEAD": 3}):
        sequence = DeliveredSequence(filler)
        for seq in range(3, 8):
            sequence.in_sequence(seq)
        await asyncio.sleep(0.05)

        assert filler.calls >= 1
        sequence.stop()


async def test_frames_not_written_count_as_not_delivered():
    sequence = DeliveredSequence(Filler())
    sequence.delivered = 5
    sequence.in_sequence(6)
    sequence.in_sequence(9)
    sequence.stop()

    sequence.undeliver(5)

    assert (sequence.delivered, sequence.has_gap) == (5, False)
    assert sequence.in_sequence(6)
