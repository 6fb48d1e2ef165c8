"""Building a process's runtime either succeeds whole or leaves nothing open behind it."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from portal import runtime as runtime_module
from portal.runtime import build_runtime
from services.retrofit import RetrofitService


def test_a_runtime_that_fails_half_way_closes_what_it_had_opened(settings, monkeypatch):
    made: list[RetrofitService] = []

    class Watched(RetrofitService):
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            made.append(self)

    def away(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        # What the event store raises when the database does not answer in time.
        raise OperationalError("connect", None, Exception("couldn't get a connection"))

    monkeypatch.setattr(runtime_module, "RetrofitService", Watched)
    monkeypatch.setattr(runtime_module, "TargetService", away)  # the last service built
    with pytest.raises(OperationalError):
        build_runtime(settings)
    assert len(made) == 1
    assert made[0].recorder.datastore.pool.closed  # its connections released, none leaked


def test_a_runtime_built_whole_stays_open_until_disposed(settings):
    rt = build_runtime(settings)
    try:
        assert not rt.retrofit.recorder.datastore.pool.closed
        assert not rt.targets.recorder.datastore.pool.closed
    finally:
        rt.dispose()
    assert rt.targets.recorder.datastore.pool.closed
