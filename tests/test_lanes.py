"""telnyx_ivr.calls.lanes: work split over forked processes, what comes back, and that no lane
outlives a failure or its parent."""

import multiprocessing
import os
import signal
import time

import pytest

from telnyx_ivr.calls import lanes

pytestmark = pytest.mark.skipif(lanes.why_not() is not None, reason="needs forked lanes")


class Refused(ValueError):
    pass


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids, seconds=10):
    """The pids still alive after ``seconds``; those are killed, so no test leaves one."""
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in pids if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left


def test_each_lane_does_its_share_and_reports_here():
    got = []
    lanes.run(
        3,
        lambda lane, emit: [emit(lane, n) for n in range(lane, 10, 3)],
        lambda *result: got.append(result),
        Refused,
    )
    assert sorted(got) == sorted((n % 3, n) for n in range(10))


def test_a_lane_that_fails_stops_the_others_and_names_the_problem(tmp_path):
    def work(lane, emit):
        (tmp_path / f"lane-{lane}").write_text(str(os.getpid()))
        if lane == 0:
            time.sleep(0.2)
            raise Refused("the menu is not published")
        while True:
            emit(lane)
            time.sleep(0.05)

    with pytest.raises(Refused, match=r"^the menu is not published$"):
        lanes.run(2, work, lambda lane: None, Refused)
    pids = [int((tmp_path / f"lane-{lane}").read_text()) for lane in range(2)]
    assert wait_gone(pids, 2) == []


def test_a_lane_that_dies_without_a_word_is_an_error():
    def work(lane, emit):
        if lane == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        emit(lane)

    with pytest.raises(Refused, match=r"process 2 of 2 stopped \(exit status -9\)"):
        lanes.run(2, work, lambda lane: None, Refused)


def test_lanes_stop_by_themselves_when_their_parent_is_killed(tmp_path):
    def work(lane, emit):
        (tmp_path / f"lane-{lane}").write_text(str(os.getpid()))
        while True:
            emit(lane)
            time.sleep(0.05)

    def parent():
        lanes.run(2, work, lambda lane: None, Refused)

    starter = multiprocessing.get_context("fork").Process(target=parent)
    starter.start()
    deadline = time.monotonic() + 10
    while not all((tmp_path / f"lane-{lane}").exists() for lane in range(2)):
        assert time.monotonic() < deadline, "the lanes did not start"
        time.sleep(0.05)
    pids = [int((tmp_path / f"lane-{lane}").read_text()) for lane in range(2)]
    os.kill(starter.pid, signal.SIGKILL)
    starter.join()
    assert wait_gone(pids) == []
