"""Probes for the process manager and load balancer: liveness touches nothing; readiness checks
the database and reports how far the read models are behind the event log."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify

from portal.runtime import runtime
from services.database import STORAGE_FAILURES, describe_failure

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def live() -> Response:
    """The process answers requests (restart it if not); never touches the database."""
    return jsonify(status="alive")


@bp.get("/readyz")
def ready() -> tuple[Response, int]:
    """Ready when the database answers (503 otherwise, so no traffic is sent here); the
    projection lag is reported for monitoring, not judged: pages catch up on their own writes."""
    try:
        lag = runtime().projector.lag()
    except STORAGE_FAILURES as e:
        log.warning("not ready: %s", describe_failure(e))  # the reason stays in the log
        return jsonify(status="unavailable", database="unavailable"), 503
    return jsonify(
        status="ready",
        database="ok",
        projections={
            "events_behind": lag.events_behind,
            "seconds_behind": round(lag.seconds_behind, 3),
            "head": lag.head,
            "position": lag.position,
        },
    ), 200
