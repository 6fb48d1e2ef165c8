"""Supervision's daily figures, folded from every programme's events in batches: households
accepted, acceptance failures, satisfaction, centres and canteens opened, meals, care hours,
institutions renovated, beds added, funds disbursed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from sqlalchemy import Connection, and_, select

from events.clock import local
from events.facility import FacilityProject, Kind
from events.fund import Fund, Movement
from events.home_care import HomeCareCase
from events.meal_day import CanteenDay
from events.retrofit import RetrofitCase
from projections.bulk import insert_rows, update_rows
from projections.home_care_queries import SATISFIED_FROM
from projections.supervision_tables import metric_days, metric_subjects

ZERO = Decimal("0")
CHUNK = 500  # ids per IN (...) when loading the subjects a batch touches
OPENING = {Kind.CARE_CENTRE: "centres_operating", Kind.CANTEEN: "canteens_operating"}
Key = tuple[str, str, date, date]
DAY_KEY = ("metric", "district", "day", "recorded_on")  # metric_days' primary key
SUBJECT_FIELDS = ("district", "kind", "value", "counted", "day")


class _Batch:
    """The subjects and daily sums one batch touches, loaded once and written once."""

    def __init__(self, conn: Connection, events: Sequence[Any]) -> None:
        self.conn = conn
        self.subjects = _load_subjects(conn, {_subject_key(e) for e in events} - {None})
        self.new: set[UUID] = set()
        self.dirty: set[UUID] = set()
        self.sums: dict[Key, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])

    def remember(
        self, key: UUID, district: str, kind: str, value: Decimal = ZERO, day: date | None = None
    ) -> None:
        self.subjects[key] = {
            "district": district, "kind": kind, "value": value, "counted": False, "day": day
        }  # fmt: skip
        self.new.add(key)

    def change(self, key: UUID, **values: Any) -> None:
        self.subjects[key] |= values
        if key not in self.new:
            self.dirty.add(key)

    def add(self, metric: str, e: Any, district: str, amount: Decimal, per: Decimal = ZERO,
            day: date | None = None) -> None:  # fmt: skip
        recorded_on = local(e.timestamp).date()
        sums = self.sums[(metric, district, day or recorded_on, recorded_on)]
        sums[0] += amount
        sums[1] += per

    def write(self) -> None:
        rows = [{"subject_id": k, **self.subjects[k]} for k in self.new]
        insert_rows(self.conn, metric_subjects, rows)
        changed = [{"subject_id": k, **self.subjects[k]} for k in self.dirty]
        update_rows(self.conn, metric_subjects, ("subject_id",), changed)
        _write_sums(self.conn, self.sums)


def _load_subjects(conn: Connection, keys: set[UUID]) -> dict[UUID, dict[str, Any]]:
    found: dict[UUID, dict[str, Any]] = {}
    ordered = sorted(keys, key=str)
    for i in range(0, len(ordered), CHUNK):
        query = select(metric_subjects).where(
            metric_subjects.c.subject_id.in_(ordered[i : i + CHUNK])
        )
        for row in conn.execute(query).mappings():
            found[row["subject_id"]] = {k: row[k] for k in SUBJECT_FIELDS}
    return found


def _write_sums(conn: Connection, sums: dict[Key, list[Decimal]]) -> None:
    if not sums:
        return
    t = metric_days.c
    metrics = sorted({k[0] for k in sums})
    recorded = sorted({k[3] for k in sums})
    query = select(t.metric, t.district, t.day, t.recorded_on, t.amount, t.denominator).where(
        and_(t.metric.in_(metrics), t.recorded_on.in_(recorded))
    )
    existing = {tuple(r[:4]): (r[4], r[5]) for r in conn.execute(query) if tuple(r[:4]) in sums}
    new, changed = [], []
    for key, (amount, per) in sums.items():
        values = dict(zip(DAY_KEY, key, strict=True))
        if key in existing:
            old_amount, old_per = existing[key]
            changed.append(values | {"amount": old_amount + amount, "denominator": old_per + per})
        else:
            new.append(values | {"amount": amount, "denominator": per})
    insert_rows(conn, metric_days, new)
    update_rows(conn, metric_days, DAY_KEY, changed)


_NO_SUBJECT_TO_LOAD = (
    RetrofitCase.Applied,
    HomeCareCase.Applied,
    FacilityProject.Registered,
    CanteenDay.MealsRecorded,
    Fund.MovementRecorded,
)


# -- what each event moves ------------------------------------------------------------------------
def _subject_key(e: Any) -> UUID | None:
    if isinstance(e, (HomeCareCase.VisitCorrected, HomeCareCase.VisitCancelled)):
        return e.visit_id
    if isinstance(e, _NO_SUBJECT_TO_LOAD):
        return None  # creates its subject, or needs none
    return e.originator_id


def _case_applied(b: _Batch, e: Any) -> None:
    b.remember(e.originator_id, e.district, "case")


def _retrofit_accepted(b: _Batch, e: Any) -> None:
    district = b.subjects[e.originator_id]["district"]
    b.add("acceptance_failure_rate", e, district, ZERO if e.passed else Decimal(1), Decimal(1))
    if e.passed:
        b.add("retrofit_accepted", e, district, Decimal(1))


def _surveyed(metric: str) -> Callable[[_Batch, Any], None]:
    def fold(b: _Batch, e: Any) -> None:
        happy = Decimal(1) if e.scores.get("overall", 0) >= SATISFIED_FROM else ZERO
        b.add(metric, e, b.subjects[e.originator_id]["district"], happy, Decimal(1))

    return fold


def _visit_logged(b: _Batch, e: Any) -> None:
    district = b.subjects[e.originator_id]["district"]
    b.remember(e.visit_id, district, "visit", Decimal(e.minutes))
    b.add("care_hours", e, district, Decimal(e.minutes) / 60)


def _visit_changed(b: _Batch, e: Any) -> None:
    visit = b.subjects[e.visit_id]
    minutes = ZERO if isinstance(e, HomeCareCase.VisitCancelled) else Decimal(e.minutes)
    b.add("care_hours", e, visit["district"], (minutes - visit["value"]) / 60)
    b.change(e.visit_id, value=minutes)


def _facility_registered(b: _Batch, e: Any) -> None:
    b.remember(e.originator_id, e.district, e.kind)


def _milestone(b: _Batch, e: Any) -> None:
    facility = b.subjects[e.originator_id]
    metric = OPENING.get(facility["kind"])
    if e.milestone == "in_operation" and metric:
        b.add(metric, e, facility["district"], Decimal(1))


def _institution_accepted(b: _Batch, e: Any) -> None:
    facility = b.subjects[e.originator_id]
    if e.passed and not facility["counted"]:
        b.add("institutions_renovated", e, facility["district"], Decimal(1))
        b.change(e.originator_id, counted=True)


def _beds(b: _Batch, e: Any) -> None:
    facility = b.subjects[e.originator_id]
    added = Decimal(max(e.beds_after - e.beds_before, 0))
    b.add("beds_added", e, facility["district"], added - facility["value"])
    b.change(e.originator_id, value=added)


def _meals_recorded(b: _Batch, e: Any) -> None:
    total, served_on = Decimal(len(e.served) + e.walk_in_count), date.fromisoformat(e.day)
    b.remember(e.originator_id, e.district, "canteen_day", total, served_on)
    b.add("meals_per_day", e, e.district, total, day=served_on)


def _meals_corrected(b: _Batch, e: Any) -> None:
    day = b.subjects[e.originator_id]
    total = Decimal(len(e.served) + e.walk_in_count)
    b.add("meals_per_day", e, day["district"], total - day["value"], day=day["day"])
    b.change(e.originator_id, value=total)


def _fund_moved(b: _Batch, e: Any) -> None:
    if e.kind == Movement.DISBURSED and e.district:
        b.add("funds_disbursed", e, e.district, e.amount)


_HANDLERS: dict[type, Callable[[_Batch, Any], None]] = {
    RetrofitCase.Applied: _case_applied,
    RetrofitCase.AcceptanceInspected: _retrofit_accepted,
    RetrofitCase.SatisfactionSurveyAnswered: _surveyed("retrofit_satisfaction"),
    HomeCareCase.Applied: _case_applied,
    HomeCareCase.VisitLogged: _visit_logged,
    HomeCareCase.VisitCorrected: _visit_changed,
    HomeCareCase.VisitCancelled: _visit_changed,
    HomeCareCase.SatisfactionSurveyAnswered: _surveyed("care_satisfaction"),
    FacilityProject.Registered: _facility_registered,
    FacilityProject.MilestoneReached: _milestone,
    FacilityProject.AcceptanceInspected: _institution_accepted,
    FacilityProject.BedsRecorded: _beds,
    CanteenDay.MealsRecorded: _meals_recorded,
    CanteenDay.MealsCorrected: _meals_corrected,
    Fund.MovementRecorded: _fund_moved,
}


class MetricDays:
    """The daily movements of every supervised figure, per district."""

    name = "metric_days"
    tables = (metric_days, metric_subjects)
    topics = tuple(get_topic(t) for t in _HANDLERS)

    def apply(self, conn: Connection, events: Sequence[Any]) -> None:
        """Fold a batch: load the subjects it touches, sum by day, write once."""
        batch = _Batch(conn, events)
        for e in events:
            _HANDLERS[type(e)](batch, e)
        batch.write()


def handled_event_types() -> Iterable[type]:
    """The events that move a supervised figure (for tests and documentation)."""
    return tuple(_HANDLERS)
