"""Display names of the fund ledger's stored codes (sources, programmes, kinds of movement,
balances, chain problems) in the user's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

SOURCES = {
    "provincial": _l("省级财政资金"),
    "municipal": _l("市级财政资金"),
    "county": _l("县级配套资金"),
    "lottery": _l("福利彩票公益金"),
    "social": _l("社会资本或捐赠"),
}
PROGRAMMES = {
    "retrofit": _l("适老化改造"),
    "meal": _l("老年助餐"),
    "home_care": _l("上门照护"),
    "facility": _l("养老设施建设"),
}
KINDS = {
    "received": _l("到账"),
    "allocated": _l("下达"),
    "committed": _l("核定"),
    "disbursed": _l("拨付"),
    "returned": _l("退回"),
}
# The running figures, as a sentence names them ("已下达金额将超过已到账金额").
FIGURES = {
    "received": _l("已到账金额"),
    "allocated": _l("已下达金额"),
    "committed": _l("已核定金额"),
    "disbursed": _l("已拨付金额"),
    "returned": _l("已退回金额"),
}
TARGETS = {"retrofit_case": _l("适老化改造案件"), "facility": _l("养老设施")}
CHAIN_PROBLEMS = {
    "content_changed": _l("这条记录的内容被改动过:按内容重新计算的哈希值和保存的不一致。"),
    "link_broken": _l("这条记录和上一条对不上:中间可能有记录被删除、替换,或者顺序被调换了。"),
    "missing_event": _l("这条记录前面缺了记录(编号不连续):有记录被删除了。"),
    "unreadable": _l("这条记录无法读取:保存的数据被改坏了。"),
    "snapshot_differs": _l(
        "快照(为加快读取而保存的中间结果)和逐条重算的结果不一致:快照可能被改动过。"
    ),
}
