"""Events written by an earlier version of an event class still load, project and verify.

`tests/fixtures/events_v1.json` holds rows exactly as the eventsourcing recorder stored them
(originator id, version, topic, state bytes) when every event class was at version 1: a retrofit
case walked to closed (a failed acceptance, rectification, a passed acceptance recorded at 00:30
city time, a subsidy committed and paid, a survey), a second case rectified and waiting for its
re-inspection, and the fund that paid, with a reversal and a return. Since then
`RetrofitCase.AcceptanceInspected` is at version 2 (it records `inspected_on`, the visit's city
date); fund events are frozen at version 1 because their hash chain covers their fields.
"""

from __future__ import annotations

import base64
import io
import json
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from sqlalchemy import select

from events import clock
from events.errors import InvalidAcceptance
from events.fund import Fund
from events.ledger_chain import recompute
from events.retrofit import RetrofitCase, Step
from portal.runtime import Runtime
from projections.supervision_tables import metric_days
from projections.tables import retrofit_cases, retrofit_timeline
from services import ledger_history
from services.evidence_pack import evidence_pack
from tests.support.actors import CASEWORKER, INSPECTOR, read_models
from tests.support.scenario import ASSESSED_LINES

FIXTURE = Path(__file__).parent.parent / "fixtures" / "events_v1.json"
TOPIC = "events.retrofit:RetrofitCase.AcceptanceInspected"


def stored_v1(rt: Runtime) -> dict[str, Any]:
    """Put the version-1 rows into this fresh store, in their original log order."""
    fixture = json.loads(FIXTURE.read_text())
    rows = sorted(fixture["rows"], key=lambda r: r["notification_id"])
    rt.retrofit.recorder.insert_events(
        [
            StoredEvent(
                originator_id=UUID(r["originator_id"]),
                originator_version=r["originator_version"],
                topic=r["topic"],
                state=base64.b64decode(r["state"]),
            )
            for r in rows
        ]
    )
    return fixture


def state_of(stored: StoredEvent, rt: Runtime) -> dict[str, Any]:
    """What a stored row says, decoded but not upcast: the stored form itself."""
    return rt.retrofit.mapper.transcoder.decode(stored.state)


def test_the_fixture_really_is_version_1(rt: Runtime) -> None:
    # Guards the fixture: nobody regenerated it with today's classes.
    fixture = stored_v1(rt)
    inspections = [r for r in fixture["rows"] if r["topic"] == TOPIC]
    assert len(inspections) == 3
    for row in inspections:
        state = json.loads(base64.b64decode(row["state"]))
        assert "class_version" not in state and "inspected_on" not in state


def test_old_inspections_load_with_the_city_date_of_their_recording(rt: Runtime) -> None:
    fixture = stored_v1(rt)
    closed = UUID(fixture["retrofit_closed_case"])

    case = rt.retrofit.case_for(CASEWORKER, closed)

    assert case.step == Step.CLOSED and case.acceptance_rounds == 2 and case.acceptance_passed
    assert case.subsidy_paid == Decimal("1200.00")
    inspections = [
        e for e in rt.retrofit.events.get(closed) if isinstance(e, RetrofitCase.AcceptanceInspected)
    ]
    # The pass was recorded at 16:30 UTC on 9 April: 00:30 on 10 April in the city.
    assert [(e.timestamp.date().isoformat(), e.inspected_on) for e in inspections] == [
        ("2025-04-08", "2025-04-08"),
        ("2025-04-09", "2025-04-10"),
    ]
    assert case.last_inspected_on == "2025-04-10"


def test_projections_and_the_evidence_pack_read_upcast_events(rt: Runtime) -> None:
    fixture = stored_v1(rt)
    closed, waiting = (
        UUID(fixture["retrofit_closed_case"]),
        UUID(fixture["retrofit_awaiting_reinspection"]),
    )

    assert rt.projector.catch_up() > 0
    caught_up = read_models(rt.engine)
    rt.projector.rebuild()

    assert read_models(rt.engine) == caught_up
    with rt.engine.connect() as conn:
        cases = {r.case_id: r for r in conn.execute(select(retrofit_cases))}
        kinds = (
            conn.execute(
                select(retrofit_timeline.c.kind)
                .where(retrofit_timeline.c.case_id == closed)
                .order_by(retrofit_timeline.c.version)
            )
            .scalars()
            .all()
        )
        accepted = conn.execute(
            select(metric_days.c.day, metric_days.c.amount).where(
                metric_days.c.metric == "retrofit_accepted"
            )
        ).all()
    assert (
        cases[closed].step,
        cases[closed].acceptance_rounds,
        cases[closed].last_acceptance_passed,
    ) == ("closed", 2, True)
    assert (cases[waiting].step, cases[waiting].acceptance_rounds) == ("works_completed", 1)
    assert kinds.count("AcceptanceInspected") == 2 and kinds[-1] == "Closed"
    assert accepted == [(date(2025, 4, 10), Decimal("1"))]

    pack = evidence_pack(rt.ledger, rt.photos, closed, datetime(2025, 5, 1, tzinfo=UTC))
    with zipfile.ZipFile(io.BytesIO(pack)) as archive:
        lines = [json.loads(line) for line in archive.read("events.jsonl").decode().splitlines()]
    assert [line["state"]["inspected_on"] for line in lines if line["topic"] == TOPIC] == [
        "2025-04-08",
        "2025-04-10",
    ]


def test_new_inspections_are_written_at_version_2(rt: Runtime) -> None:
    fixture = stored_v1(rt)
    waiting = UUID(fixture["retrofit_awaiting_reinspection"])
    version = rt.retrofit.case_for(INSPECTOR, waiting).version
    results = [
        {"code": line["code"], "installed": True, "works": True, "safe": True}
        for line in ASSESSED_LINES
    ]

    with clock.frozen_at(datetime(2025, 4, 12, 2, 0, tzinfo=UTC)):
        new_version = rt.retrofit.inspect_acceptance(
            INSPECTOR,
            waiting,
            version,
            results=results,
            photos=[{"sha256": "2" * 64, "media_type": "image/jpeg"}],
        )

    (stored,) = rt.retrofit.recorder.select_events(waiting, gt=version)
    assert stored.topic == TOPIC
    assert {k: state_of(stored, rt)[k] for k in ("class_version", "inspected_on", "round", "passed")} == {
        "class_version": 2, "inspected_on": "2025-04-12", "round": 2, "passed": True,
    }  # fmt: skip
    # The old version-1 failure and the new version-2 pass replay side by side.
    case = rt.retrofit.case_for(CASEWORKER, waiting)
    assert (case.version, case.step, case.acceptance_rounds) == (new_version, Step.ACCEPTED, 2)
    rt.catch_up()
    with rt.engine.connect() as conn:
        row = conn.execute(select(retrofit_cases).where(retrofit_cases.c.case_id == waiting)).one()
    assert (row.step, row.acceptance_rounds, row.version) == ("accepted", 2, new_version)


def test_an_inspection_day_can_be_earlier_but_not_in_the_future_nor_before_applying() -> None:
    def case_awaiting_acceptance() -> RetrofitCase:
        with clock.frozen_at(datetime(2025, 4, 1, 2, 0, tzinfo=UTC)):
            case = RetrofitCase(
                case_id=UUID(int=7), reference="R", person_id=UUID(int=8), channel="online",
                applicant_user_id="f", relation="child", district="D01", street="s", community="c",
                actor_id="f",
            )  # fmt: skip
        case.assessment = {"items": [{"code": "T01"}], "subsidy": Decimal("0")}
        case.step = Step.WORKS_COMPLETED
        return case

    checked = [{"code": "T01", "installed": True, "works": True, "safe": True}]
    photos = [{"sha256": "3" * 64, "media_type": "image/png"}]
    with clock.frozen_at(datetime(2025, 4, 10, 2, 0, tzinfo=UTC)):
        for refused in (date(2025, 4, 11), date(2025, 3, 31)):
            with pytest.raises(InvalidAcceptance) as refusal:
                case_awaiting_acceptance().inspect_acceptance(
                    actor_id="i", results=checked, photos=photos, inspected_on=refused
                )
            assert refusal.value.detail == "inspected_on"
        case = case_awaiting_acceptance()
        case.inspect_acceptance(
            actor_id="i", results=checked, photos=photos, inspected_on=date(2025, 4, 9)
        )
    assert case.last_inspected_on == "2025-04-09"
    assert case.collect_events()[-1].inspected_on == "2025-04-09"


# -- fund events are frozen: their links cover what they decode to -------------------------------
def test_an_old_fund_still_verifies_and_balances(rt: Runtime) -> None:
    fund_id = UUID(stored_v1(rt)["fund"])

    check = ledger_history.verify(rt.ledger, fund_id)
    balance = ledger_history.balance_at(rt.ledger, fund_id, None)

    assert check.intact, (check.broken_at, check.problem)
    assert check.checked == 8
    assert balance.totals == {
        "received": Decimal("100000.00"), "returned": Decimal("1000.00"),
        "allocated": Decimal("50000.00"), "committed": Decimal("1200.00"),
        "disbursed": Decimal("1200.00"),
    }  # fmt: skip
    assert ledger_history.verify(rt.ledger, fund_id).head == rt.ledger.fund(fund_id).head


def test_fund_events_stay_at_version_1_because_an_added_field_breaks_their_links(
    rt: Runtime,
) -> None:
    fund_id = UUID(stored_v1(rt)["fund"])
    for event_class in (Fund.Opened, Fund.MovementRecorded):
        assert getattr(event_class, "class_version", 1) == 1, "see the comment in events/fund.py"
        assert not [name for name in dir(event_class) if name.startswith("upcast_")]

    movement = rt.ledger.movement(fund_id, 2)
    assert recompute(movement) == movement.link
    # What an upcast adding a field would do to the same stored event:
    object.__setattr__(movement, "channel", "online")
    assert recompute(movement) != movement.link
