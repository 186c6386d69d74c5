"""core/gc_pause.py: the collector is off inside the block, on after it, and the block's cycles are freed at its end."""
import gc
import weakref

from core.gc_pause import collection_paused


class Node:
    pass


def test_the_block_runs_without_the_collector_and_its_cycles_are_freed_after():
    assert gc.isenabled()
    with collection_paused():
        assert not gc.isenabled()
        a, b = Node(), Node()
        a.other, b.other = b, a  # a cycle: only the collector frees it
        alive = weakref.ref(a)
        del a, b
        assert alive() is not None
    assert gc.isenabled()
    assert alive() is None


def test_an_error_in_the_block_still_turns_the_collector_back_on():
    try:
        with collection_paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()


def test_a_collector_already_off_stays_off():
    gc.disable()
    try:
        with collection_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_run_paused_returns_the_result_and_frees_the_frames_cycles_after_it_returns():
    from core.gc_pause import run_paused

    seen = {}

    def batch():
        seen["enabled"] = gc.isenabled()
        a, b = Node(), Node()
        a.other, b.other = b, a
        seen["ref"] = weakref.ref(a)
        return 7

    assert run_paused(batch) == 7
    assert seen["enabled"] is False
    assert gc.isenabled()
    assert seen["ref"]() is None


def test_what_the_process_held_before_its_first_batch_is_frozen_and_later_batches_are_not():
    from core import gc_pause

    gc_pause.run_paused(lambda: None)  # the first batch of this process (or an earlier test's) froze start-up
    frozen = gc.get_freeze_count()
    assert frozen > 0
    gc_pause.run_paused(lambda: [Node() for _ in range(100)])
    assert gc.get_freeze_count() == frozen  # only once: a later batch's survivors stay collectable
