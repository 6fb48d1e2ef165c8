"""Messages for refusals of the fund ledger, with the figures that explain them, and the form
field each is about; `portal.messages` looks here after the programmes' table."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext

from events.checklist import CURRENT_CHECKLIST_VERSION
from portal import labels
from portal.ledger_labels import FIGURES

# "" is the fallback for a code whose detail has no sentence of its own.
BY_CODE = {
    "invalid_fund": {
        "source": _l("请选择资金来源。"),
        "programme": _l("请选择资金用途。"),
        "year": _l("请填写年度,例如 2025。"),
        "title": _l("请填写资金名称(100字以内)。"),
        "matching_ratio": _l(
            "配套比例只适用于省级资金:请填写0到10之间的数字,1表示地方按1:1配套;"
            "其他来源的资金请留空。"
        ),
        "target": _l("这笔资金的用途和所选的案件或机构不一致,请选择用途相符的资金。"),
        "": _l("资金信息有误,请检查。"),
    },
    "invalid_movement": {
        "amount": _l("请填写金额:以元为单位,大于0,最多两位小数,例如 3000 或 1250.50。"),
        "district": _l("请选择区县。"),
        "document": _l("请填写依据文件,例如拨款文件的文号(500字以内)。"),
        "payee": _l("请填写收款单位或收款人(100字以内)。"),
        "voucher": _l("请填写凭证号(40字以内)。"),
        "reason": _l("请写明原因(500字以内)。"),
        "project": _l("项目名称请写在64字以内。"),
        "target": _l("请选择核定给哪个案件或机构。"),
        "": _l("这笔记录有误,请检查。"),
    },
    "correction_refused": {
        "not_found": _l("找不到要冲销的这笔记录,可能链接有误。"),
        "is_reversal": _l("这一笔本身是冲销记录,不能再冲销。如有错误,请重新登记一笔正确的记录。"),
        "already_reversed": _l("这一笔已经冲销过了,不能重复冲销。"),
        "has_payments": _l("这笔核定已经有拨付记录。请先冲销它的拨付,再冲销这笔核定。"),
        "": _l("这笔记录不能冲销。"),
    },
    "commitment_not_open": {
        "": _l(
            "第%(commitment)s笔核定已经付清、已被冲销或不存在,不能再拨付。请从未付清的核定中选择。"
        ),
    },
    "subsidy_not_due": {
        "acceptance": _l("这户还没有通过验收。验收通过后,才能核定补助资金。"),
        "exceeds": _l(
            "核定金额超过了评估的补助:评估补助 %(subsidy)s 元,已核定 %(committed)s 元,"
            "本次 %(requested)s 元。"
        ),
        "": _l("现在还不能核定这户的补助资金。"),
    },
    "fund_exists": {
        "": _l("这个来源、用途和年度的资金已经建立过了,请在资金列表中找到它。"),
    },
    "fund_not_found": {"": _l("找不到这笔资金,可能链接有误。")},
    "fund_busy": {
        "": _l("同一时间有其他人在登记这笔资金的收支,这次没有保存。请核对后再提交一次。"),
    },
}
# Where each refusal is shown: next to this form field (None: at the top of the form).
FIELDS: dict[str, Callable[[str], str | None]] = {
    "invalid_fund": lambda detail: "fund" if detail == "target" else detail or None,
    "invalid_movement": lambda detail: detail or None,
    "insufficient_funds": lambda _detail: "amount",
    "subsidy_not_due": lambda detail: "amount" if detail == "exceeds" else None,
}
AMOUNTS = ("available", "requested", "upper_amount", "lower_amount", "subsidy", "committed")


class _Lenient(dict):  # type: ignore[type-arg]
    # A missing parameter prints as nothing rather than breaking the user's page.
    def __missing__(self, key: str) -> str:
        return ""


def ledger_message(code: str, detail: str, params: dict[str, Any]) -> str | None:
    """The sentence for a ledger refusal, or None when the code is not the ledger's."""
    shown = _Lenient({k: money(v) if k in AMOUNTS else v for k, v in params.items()})
    if code == "insufficient_funds":
        return _insufficient(shown)
    if code == "double_subsidy":
        return _double_subsidy(params)
    table = BY_CODE.get(code)
    if table is None:
        return None
    template = str(table.get(detail) or table[""])
    return template % shown if "%(" in template else template


def ledger_field(code: str, detail: str) -> str | None:
    """The form field a ledger refusal is about, so its message stands next to it."""
    found = FIELDS.get(code)
    return found(detail) if found else None


def money(value: object) -> str:
    """An amount as people read it in a sentence: 1,200.00."""
    try:
        return f"{Decimal(str(value)):,.2f}"
    except ArithmeticError:
        return str(value)


def _insufficient(params: dict[str, Any]) -> str:
    """Which figure would overtake which, where, and by how much room there was."""
    action = params.get("action") or params.get("lower", "")
    values = dict(
        params,
        action=_action(action),
        scope=_scope(str(params.get("scope", ""))),
        upper=FIGURES.get(params.get("upper", ""), ""),
        lower=FIGURES.get(params.get("lower", ""), ""),
    )
    if action in ("return", "reverse"):  # the upper figure shrinks below the lower one
        return _(
            "%(action)s后,%(scope)s的%(upper)s将少于%(lower)s:"
            "最多可%(action)s %(available)s 元,本次 %(requested)s 元。",
            **values,
        )
    return _(
        "%(action)s后,%(scope)s的%(lower)s将超过%(upper)s:"
        "可用 %(available)s 元,本次 %(requested)s 元。",
        **values,
    )


def _action(name: str) -> str:
    actions = {
        "allocated": pgettext("ledger action", "下达"),
        "committed": pgettext("ledger action", "核定"),
        "disbursed": pgettext("ledger action", "拨付"),
        "return": pgettext("ledger action", "退回"),
        "reverse": pgettext("ledger action", "冲销"),
    }
    return actions.get(name, pgettext("ledger action", "登记"))


def _scope(scope: str) -> str:
    """The fund, a district by name, or one commitment by its number ("#12")."""
    if scope == "fund":
        return _("这笔资金")
    if scope.startswith("#"):
        return _("第%(seq)s笔核定", seq=scope[1:])
    return labels.district_name(scope)


def _double_subsidy(params: dict[str, Any]) -> str:
    """Which items were already subsidised, and by which earlier case where the page knows."""
    names = [labels.item_name(code, CURRENT_CHECKLIST_VERSION) for code in params.get("items", ())]
    items = labels.listed(names)
    references = params.get("references")
    if references:
        return _(
            "这位老人的%(items)s已经由案件 %(references)s 核定过补助,在规定年限内不能重复补助。"
            "这次核定没有保存,已记入重复补助核查。",
            items=items,
            references=labels.listed(references),
        )
    return _(
        "这位老人的%(items)s已经由其他案件核定过补助,在规定年限内不能重复补助。"
        "这次核定没有保存,已记入重复补助核查。",
        items=items,
    )
