"""The retrofit item checklist: versioned reference data each assessment names and keeps."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class ChecklistItem:
    """One item an assessor may choose; basic items are subsidised for needy households."""

    code: str
    category: str
    name_zh: str
    name_en: str
    unit_zh: str
    basic: bool
    reference_price: Decimal


@dataclass(frozen=True)
class Checklist:
    """A published version of the checklist: its items, looked up by code."""

    version: str
    title_zh: str
    items: tuple[ChecklistItem, ...]
    # One elder is subsidised for an item once within this many years, whichever fund pays.
    period_years: int = 5

    def item(self, code: str) -> ChecklistItem | None:
        """The item with this code in this version, if there is one."""
        return next((i for i in self.items if i.code == code), None)


CATEGORIES: dict[str, tuple[str, str]] = {
    "floor": ("地面", "Floors"),
    "door": ("门", "Doors"),
    "bedroom": ("卧室", "Bedroom"),
    "bathroom": ("如厕洗浴", "Toilet and bathing"),
    "kitchen": ("厨房", "Kitchen"),
    "environment": ("物理环境", "Home environment"),
    "aids": ("老年用品", "Aids for daily living"),
}


def _item(
    code: str, cat: str, zh: str, en: str, unit: str, basic: bool, price: str
) -> ChecklistItem:
    return ChecklistItem(code, cat, zh, en, unit, basic, Decimal(price))


# Ministry of Civil Affairs and eight ministries, 2020: 7 categories, 30 items, 7 basic.
MCA_2020 = Checklist(
    version="MCA-2020",
    title_zh="困难老年人家庭居家适老化改造项目和老年用品配置推荐清单(2020)",
    items=(
        _item("F01", "floor", "地面防滑处理", "Non-slip floor treatment", "平方米", True, "60"),
        _item("F02", "floor", "高差处理", "Level change or ramp", "处", True, "400"),
        _item("F03", "floor", "平整硬化", "Floor levelling", "平方米", False, "80"),
        _item("F04", "floor", "安装扶手", "Wall handrails", "米", False, "150"),
        _item("D01", "door", "去除门槛", "Remove threshold", "处", False, "150"),
        _item("D02", "door", "房门拓宽", "Widen door", "处", False, "900"),
        _item("D03", "door", "下压式门把手改造", "Lever door handle", "个", False, "80"),
        _item(
            "D04", "door", "可视化门铃改造", "Flashing or vibrating doorbell", "个", False, "200"
        ),
        _item("D05", "door", "推拉门改造", "Sliding door", "处", False, "1200"),
        _item("B01", "bedroom", "配置护理床", "Care bed", "张", False, "2500"),
        _item("B02", "bedroom", "安装床边护栏(抓杆)", "Bedside rail", "个", True, "300"),
        _item("B03", "bedroom", "配置防压疮垫", "Pressure-sore mattress", "张", False, "600"),
        _item("T01", "bathroom", "安装扶手", "Toilet and shower grab bars", "个", True, "200"),
        _item(
            "T02", "bathroom", "蹲便器改坐便器", "Squat toilet to seated toilet", "个", False, "900"
        ),
        _item("T03", "bathroom", "水龙头改造", "Lever tap", "个", False, "150"),
        _item(
            "T04", "bathroom", "浴缸/淋浴房改造", "Bath or shower conversion", "处", False, "2000"
        ),
        _item("T05", "bathroom", "配置淋浴椅", "Shower chair", "把", True, "200"),
        _item("K01", "kitchen", "台面改造", "Lowered worktop", "处", False, "1500"),
        _item("K02", "kitchen", "加装中部柜", "Mid-height cabinet", "个", False, "600"),
        _item("E01", "environment", "安装自动感应灯具", "Sensor lights", "个", False, "120"),
        _item(
            "E02",
            "environment",
            "电源插座及开关改造",
            "Switch and socket changes",
            "处",
            False,
            "100",
        ),
        _item("E03", "environment", "安装防撞护角/防撞条", "Corner guards", "米", False, "40"),
        _item("E04", "environment", "适老家具配置", "Age-friendly furniture", "件", False, "800"),
        _item("A01", "aids", "手杖", "Walking stick", "根", True, "100"),
        _item("A02", "aids", "轮椅/步行器", "Wheelchair or walker", "台", False, "700"),
        _item("A03", "aids", "放大装置", "Magnifier", "个", False, "120"),
        _item("A04", "aids", "助听器", "Hearing aid", "个", False, "1500"),
        _item("A05", "aids", "自助进食器具", "Self-feeding utensils", "套", False, "150"),
        _item("A06", "aids", "防走失装置", "Anti-wandering device", "个", True, "300"),
        _item("A07", "aids", "安全监控装置", "Safety alarm device", "个", False, "500"),
    ),
)

CHECKLISTS: dict[str, Checklist] = {MCA_2020.version: MCA_2020}
CURRENT_CHECKLIST_VERSION = MCA_2020.version


def checklist(version: str) -> Checklist | None:
    """The checklist with this version, or None where no such version was published."""
    return CHECKLISTS.get(version)
