"""Messages for refusals of supervision targets, keyed by error code and detail, and the form
field each is about; `portal.messages` looks here like it does for the programmes' table."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# "" is the fallback for a code whose detail has no sentence of its own.
BY_CODE = {
    "invalid_target": {
        "metric": _l("请从列表中选择指标。"),
        "district": _l("请选择区县,或选择“全市”。"),
        "value": _l(
            "请填写目标值:大于0的数字,最多两位小数。百分比类指标填0到100之间的数,例如 90。"
        ),
        "deadline": _l("请填写截止日期,例如 2026-12-31。截止日期要晚于今天,且在十年以内。"),
        "reason": _l("请写明原因(500字以内)。"),
        "exists": _l(
            "这个指标在这个区县已经设定了目标。如需修改,请在目标列表中点“调整”;"
            "如需重新设定,请先撤销原来的目标。"
        ),
        "": _l("目标信息有误,请检查。"),
    },
    "target_withdrawn": {
        "revise": _l("这个目标已经撤销,不能再调整。如需继续督导,请重新设定目标。"),
        "withdraw": _l("这个目标已经撤销过了。"),
        "": _l("这个目标已经撤销。"),
    },
}
# The form field each detail is about; others go to the top of the form.
FIELDS = {"invalid_target": ("metric", "district", "value", "deadline", "reason")}


def supervision_message(code: str, detail: str, params: dict[str, object]) -> str | None:
    """The sentence for a target refusal, or None when the code is not supervision's."""
    table = BY_CODE.get(code)
    if table is None:
        return None
    return str(table.get(detail) or table[""])


def supervision_field(code: str, detail: str) -> str | None:
    """The form field a target refusal is about (None: not one, or not supervision's)."""
    return detail if detail in FIELDS.get(code, ()) else None
