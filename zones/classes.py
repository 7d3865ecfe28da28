"""The seven street-management problems: names, national codes, departments, evidence and rule kinds.

This is the one table to correct when a code or a department changes. Codes in GB/T 47678.5-2026
were read from a public project's tables, not from the standard's text. The older GB/T 30428.2
codes are not known to us yet: they stay None until someone reads them from the standard.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProblemClass(StrEnum):
    STANDING_WATER = "standing_water"
    STREET_VENDING = "street_vending"
    OUTSIDE_STORE_BUSINESS = "outside_store_business"
    EXPOSED_GARBAGE = "exposed_garbage"
    OVERFLOWING_BIN = "overflowing_bin"
    ILLEGAL_PARKING_MOTOR = "illegal_parking_motor"
    ILLEGAL_PARKING_NONMOTOR = "illegal_parking_nonmotor"


class ZoneKind(StrEnum):
    SCHOOL = "school"
    HOSPITAL = "hospital"
    NO_PARKING = "no_parking"
    NO_VENDING = "no_vending"
    SHOP_FRONT = "shop_front"
    BIN_AREA = "bin_area"
    ROAD = "road"
    GENERAL = "general"


class RuleKind(StrEnum):
    STATIONARY_TRACK = "stationary_track"  # one tracked object staying still (parking)
    STATIONARY_CLUSTER = "stationary_cluster"  # objects staying together in a zone (vending, outside-store)
    PRESENCE = "presence"  # a surface or pile seen often enough (water, garbage, bins)


@dataclass(frozen=True)
class EvidenceLabels:
    """Labels (after each model's label map) that show a class.

    `primary` labels name the problem itself (a custom model's `garbage_bag`, COCO's `car` for
    parking); `proxy` labels only hint at it (COCO's `umbrella` for a stall). `helpers` are needed
    by the rule but prove nothing alone (the `person` that rides a bicycle or tends a stall).
    """

    primary: frozenset[str]
    proxy: frozenset[str] = frozenset()
    helpers: frozenset[str] = frozenset()

    @property
    def subject(self) -> frozenset[str]:
        return self.primary | self.proxy


@dataclass(frozen=True)
class ClassInfo:
    name_zh: str
    name_en: str
    department_zh: str
    department_en: str
    code_gbt_47678_5: str | None
    code_gbt_30428_2: str | None
    rule: RuleKind
    evidence: EvidenceLabels


_VEHICLES = frozenset({"car", "bus", "truck", "motor_vehicle"})
_TWO_WHEELERS = frozenset({"bicycle", "motorcycle", "e_bike", "tricycle", "nonmotor_vehicle"})
_PERSON = frozenset({"person"})

CLASS_INFO: dict[ProblemClass, ClassInfo] = {
    ProblemClass.STANDING_WATER: ClassInfo(
        "道路积水", "Standing water", "排水", "drainage", None, None, RuleKind.PRESENCE,
        EvidenceLabels(primary=frozenset({"standing_water", "puddle", "waterlogging", "flooded_road"})),
    ),
    ProblemClass.STREET_VENDING: ClassInfo(
        "占道经营", "Street vending", "城管", "urban management", "09006", None, RuleKind.STATIONARY_CLUSTER,
        EvidenceLabels(
            primary=frozenset({"vending_stall", "stall", "vending_cart", "street_vendor"}),
            proxy=frozenset({"umbrella", "dining table", "cart"}),
            helpers=_PERSON,
        ),
    ),
    ProblemClass.OUTSIDE_STORE_BUSINESS: ClassInfo(
        "店外经营", "Outside-store business", "城管", "urban management", "09005", None,
        RuleKind.STATIONARY_CLUSTER,
        EvidenceLabels(
            primary=frozenset({"goods_display", "shop_rack", "outside_store_goods"}),
            proxy=frozenset({"chair", "dining table", "bench", "potted plant", "suitcase"}),
        ),
    ),
    ProblemClass.EXPOSED_GARBAGE: ClassInfo(
        "暴露垃圾", "Exposed garbage", "环卫", "sanitation", "06010", None, RuleKind.PRESENCE,
        EvidenceLabels(primary=frozenset({"garbage", "garbage_bag", "trash_pile", "litter_pile"})),
    ),
    ProblemClass.OVERFLOWING_BIN: ClassInfo(
        "垃圾满溢", "Overflowing bin", "环卫", "sanitation", "06042", None, RuleKind.PRESENCE,
        EvidenceLabels(primary=frozenset({"overflowing_bin", "bin_overflow", "full_bin"})),
    ),
    ProblemClass.ILLEGAL_PARKING_MOTOR: ClassInfo(
        "机动车乱停放", "Illegal motor-vehicle parking", "交警", "traffic police", "09009", None,
        RuleKind.STATIONARY_TRACK, EvidenceLabels(primary=_VEHICLES),
    ),
    ProblemClass.ILLEGAL_PARKING_NONMOTOR: ClassInfo(
        "非机动车乱停放", "Illegal non-motor-vehicle parking", "社区/物业", "community / property management",
        "09010", None, RuleKind.STATIONARY_TRACK, EvidenceLabels(primary=_TWO_WHEELERS, helpers=_PERSON),
    ),
}

# 无照经营游商 (unlicensed mobile vendor) shares the street-vending class; its code is exported beside it.
EXTRA_CODES: dict[ProblemClass, dict[str, str]] = {
    ProblemClass.STREET_VENDING: {"gbt_47678_5_mobile_vendor": "09001"},
}

_PARKING = (ProblemClass.ILLEGAL_PARKING_MOTOR, ProblemClass.ILLEGAL_PARKING_NONMOTOR)
_ALL = tuple(ProblemClass)

# What a zone watches when its configuration lists no classes.
KIND_CLASSES: dict[ZoneKind, tuple[ProblemClass, ...]] = {
    ZoneKind.SCHOOL: _ALL,
    ZoneKind.HOSPITAL: _ALL,
    ZoneKind.GENERAL: _ALL,
    ZoneKind.NO_PARKING: _PARKING,
    ZoneKind.NO_VENDING: (ProblemClass.STREET_VENDING,),
    ZoneKind.SHOP_FRONT: (ProblemClass.OUTSIDE_STORE_BUSINESS, ProblemClass.STREET_VENDING),
    ZoneKind.BIN_AREA: (ProblemClass.EXPOSED_GARBAGE, ProblemClass.OVERFLOWING_BIN),
    ZoneKind.ROAD: (
        ProblemClass.STANDING_WATER,
        ProblemClass.EXPOSED_GARBAGE,
        ProblemClass.STREET_VENDING,
        *_PARKING,
    ),
}

HIGH_PRIORITY_KINDS = frozenset({ZoneKind.SCHOOL, ZoneKind.HOSPITAL})


class Coverage(StrEnum):
    FULL = "full"  # a loaded model has a label that names the problem
    PARTIAL = "partial"  # only proxy evidence (COCO umbrella for a stall): alerts are weaker
    NONE = "none"  # nothing loaded can see it: the class raises nothing


def class_coverage(problem: ProblemClass, labels: frozenset[str] | set[str]) -> Coverage:
    """How well the labels the loaded models produce (after their label maps) cover a class."""
    evidence = CLASS_INFO[problem].evidence
    if evidence.primary & labels:
        return Coverage.FULL
    if evidence.proxy & labels:
        return Coverage.PARTIAL
    return Coverage.NONE

