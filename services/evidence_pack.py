"""An evidence pack for one retrofit case: its events, acceptance photo hashes, the payments
made for it and the chains of the funds that paid, in a ZIP whose manifest hashes every file."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from events import clock
from events.retrofit import RetrofitCase
from services.errors import CaseNotFound
from services.ledger import LedgerService
from services.ledger_history import ChainCheck, line_of, verify
from services.photos import PhotoStore

# Fields every event has; the rest is what the event says.
_FRAME = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})
MANIFEST = "manifest.json"


def evidence_pack(
    ledger: LedgerService, photos: PhotoStore, case_id: UUID, generated_at: datetime
) -> bytes:
    """Everything an auditor needs to check one household's subsidy, as a ZIP (files in name
    order, fixed times) whose manifest names each file's SHA-256 and size."""
    case = _case(ledger, case_id)
    history = list(ledger.events.get(case_id))
    recorded = [e for e in history if isinstance(e, RetrofitCase.SubsidyRecorded)]
    payments = [_payment(ledger, UUID(e.fund_id), e.movement) for e in recorded]
    funds = sorted({p["fund_id"] for p in payments})
    files = {
        "events.jsonl": "".join(_json(_event(e)) + "\n" for e in history).encode(),
        "acceptance_photos.json": _json(_photos(photos, history)).encode(),
        "payments.json": _json(payments).encode(),
        "chain.json": _json([_chain(verify(ledger, UUID(f))) for f in funds]).encode(),
    }
    files[MANIFEST] = _json(_manifest(case, files, generated_at)).encode()
    return _zip(files, generated_at)


def _case(ledger: LedgerService, case_id: UUID) -> RetrofitCase:
    try:
        case = ledger.repository.get(case_id)
    except AggregateNotFoundError:
        raise CaseNotFound(case_id) from None
    if not isinstance(case, RetrofitCase):
        raise CaseNotFound(case_id)
    return case


def _event(event: Any) -> dict[str, Any]:
    """A stored event, decoded: what it says, and where it sits in the case's history."""
    return {
        "version": event.originator_version,
        "topic": get_topic(type(event)),
        "timestamp": event.timestamp,
        "state": {k: v for k, v in vars(event).items() if k not in _FRAME},
    }


def _photos(photos: PhotoStore, history: list[Any]) -> list[dict[str, Any]]:
    """Each acceptance photo as the inspection recorded it, and whether the kept file still
    hashes to that record (intact), differs (altered), or is gone (missing)."""
    found = []
    for event in history:
        if not isinstance(event, RetrofitCase.AcceptanceInspected):
            continue
        for photo in event.photos:
            path = photos.path_for(photo["sha256"])
            found.append({
                "round": event.round, "version": event.originator_version,
                "sha256": photo["sha256"], "media_type": photo.get("media_type", ""),
                "stored_name": path.name if path else "", "status": _photo_status(path, photo),
            })  # fmt: skip
    return found


def _photo_status(path: Path | None, photo: dict[str, str]) -> str:
    if path is None:
        return "missing"
    return "intact" if _sha256(path.read_bytes()) == photo["sha256"] else "altered"


def _payment(ledger: LedgerService, fund_id: UUID, seq: int) -> dict[str, Any]:
    """A ledger movement for the case, as recorded in its fund, with the link that chains it."""
    line = line_of(ledger.movement(fund_id, seq))
    return {"fund_id": str(line.fund_id), **{k: v for k, v in vars(line).items() if k != "fund_id"}}


def _chain(check: ChainCheck) -> dict[str, Any]:
    return {
        "fund_id": str(check.fund_id), "intact": check.intact, "events_checked": check.checked,
        "snapshots_checked": check.snapshots_checked, "head": check.head,
        "broken_at": check.broken_at, "problem": check.problem,
    }  # fmt: skip


def _manifest(
    case: RetrofitCase, files: dict[str, bytes], generated_at: datetime
) -> dict[str, Any]:
    return {
        "case_id": str(case.id),
        "reference": case.reference,
        "generated_at": generated_at,
        "files": [
            {"name": name, "sha256": _sha256(content), "size": len(content)}
            for name, content in sorted(files.items())
        ],
    }


def _zip(files: dict[str, bytes], generated_at: datetime) -> bytes:
    stamp = clock.local(generated_at).timetuple()[:6]
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in sorted(files.items()):
            entry = zipfile.ZipInfo(name, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, content)
    return out.getvalue()


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_plain)


def _plain(value: Any) -> Any:
    """Exact text for the types events carry: amounts keep their fen, times their zone."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} into an evidence pack")


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
