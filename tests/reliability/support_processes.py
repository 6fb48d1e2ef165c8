"""Real worker processes for reliability tests: each one builds its own runtime from the same
Settings, as a web worker or the projection worker does, and none inherits a connection."""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from typing import Any

from portal.runtime import Runtime, build_runtime
from services.settings import Settings

# Spawned, never forked: a forked child would share the parent's open connections.
SPAWN = multiprocessing.get_context("spawn")
START_TIMEOUT_S = 60
RESULT_TIMEOUT_S = 120
# Each of a runtime's six services keeps up to five PostgreSQL connections warm by default; a
# test with several children (and other tests running beside it) would run the shared server
# out of connections. One warm connection each, more on demand, changes nothing else.
CHILD_ENV = {"ANLAO_POSTGRES_POOL_SIZE": "1"}


def _child_runtime(settings: Settings) -> Runtime:
    os.environ.update(CHILD_ENV)  # this child's own environment, read by the library
    return build_runtime(settings)


@dataclass(frozen=True)
class Outcome:
    """What one child process sent back: its result, or the traceback that ended it."""

    index: int
    result: Any = None
    error: str = ""


def _child_main(
    settings: Settings,
    job: Callable[..., Any],
    index: int,
    args: tuple[Any, ...],
    results: Any,
    start: Any,
) -> None:
    """The body of every child: its own runtime, the job, one message back, connections closed."""
    try:
        if start is not None:
            start.wait(START_TIMEOUT_S)  # every child builds its runtime at the same moment
        rt = _child_runtime(settings)
    except Exception:
        results.put(Outcome(index, error=traceback.format_exc()))
        return
    try:
        results.put(Outcome(index, result=job(rt, index, *args)))
    except Exception:
        results.put(Outcome(index, error=traceback.format_exc()))
    finally:
        rt.dispose()


class Workers:
    """Child processes started together, each running `job(rt, index, *args)` on a runtime of
    its own; `results()` waits for them all. A child that fails fails the test with its own
    traceback."""

    def __init__(
        self,
        settings: Settings,
        jobs: list[tuple[Callable[..., Any], tuple[Any, ...]]],
        *,
        start_together: bool = False,
    ) -> None:
        self._results = SPAWN.Queue()
        # Kept here: the children unpickle it after start() returns, and it must still exist.
        self._start = start = SPAWN.Barrier(len(jobs)) if start_together else None
        self._children = [
            SPAWN.Process(
                target=_child_main,
                args=(settings, job, i, args, self._results, start),
                daemon=True,
            )
            for i, (job, args) in enumerate(jobs)
        ]
        for child in self._children:
            child.start()

    def results(self) -> list[Any]:
        """Each child's result, in the order the jobs were given."""
        try:
            outcomes = [self._next() for _ in self._children]
        finally:
            for child in self._children:
                child.join(timeout=30)
                if child.is_alive():
                    child.kill()
        failed = [o.error for o in outcomes if o.error]
        assert not failed, "a worker process failed:\n" + "\n".join(failed)
        return [o.result for o in sorted(outcomes, key=lambda o: o.index)]

    def _next(self) -> Outcome:
        """The next child's message; fails at once if every child still owing one has died."""
        deadline = time.monotonic() + RESULT_TIMEOUT_S
        while time.monotonic() < deadline:
            everyone_gone = not any(child.is_alive() for child in self._children)
            try:
                return self._results.get(timeout=0.5)
            except queue.Empty:
                if everyone_gone:  # and nothing came after: a child died without a word
                    codes = [child.exitcode for child in self._children]
                    raise AssertionError(f"worker processes died (exit codes {codes})") from None
        raise AssertionError("a worker process sent nothing back in time")


def run_in_processes(
    settings: Settings, job: Callable[..., Any], args: list[tuple[Any, ...]]
) -> list[Any]:
    """Run `job(rt, index, *args[index])` in one spawned process per entry; their results."""
    return Workers(settings, [(job, a) for a in args]).results()


def in_threads(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in `count` threads of this process; their results, or the first error."""
    found: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            found[i] = work(i)
        except BaseException as error:  # handed to the caller below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return found


# -- children that are killed ---------------------------------------------------------------------


def _looping_main(
    settings: Settings, loop: Callable[..., None], args: tuple[Any, ...], ready: Any
) -> None:
    rt = _child_runtime(settings)
    ready.set()
    loop(rt, *args)  # runs until the parent kills this process


@contextmanager
def looping_child(
    settings: Settings, loop: Callable[..., None], *args: Any
) -> Iterator[SpawnProcess]:
    """A child that builds its runtime, says so, then runs `loop(rt, *args)` until killed;
    it is killed on leaving the block if the test has not done so."""
    ready = SPAWN.Event()
    child = SPAWN.Process(target=_looping_main, args=(settings, loop, args, ready), daemon=True)
    child.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready.wait(0.2):
            assert child.is_alive(), f"the child died starting (exit code {child.exitcode})"
            assert time.monotonic() < deadline, "the child process did not start in time"
        yield child
    finally:
        if child.is_alive():
            child.kill()
        child.join(timeout=30)


def kill_after(child: SpawnProcess, rng: random.Random, low: float, high: float) -> None:
    """SIGKILL the child after a random short delay (it gets no chance to clean up)."""
    assert child.is_alive(), f"the child ended by itself (exit code {child.exitcode})"
    child.join(timeout=rng.uniform(low, high))
    assert child.is_alive(), f"the child ended by itself (exit code {child.exitcode})"
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)
    child.join(timeout=30)
    assert child.exitcode == -signal.SIGKILL


def wait_until(condition: Callable[[], bool], what: str, deadline_s: float = 60) -> None:
    """Poll until `condition()` holds (a child is making progress); fail naming `what`."""
    until = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < until, f"gave up waiting: {what}"
        time.sleep(0.02)


def started(rt: Runtime, index: int) -> int:
    """A job that does nothing: the child's runtime was built, so it started."""
    return index
