"""The seven street-management problems and the zone kinds that watch them."""

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


@dataclass(frozen=True)
class ClassInfo:
    name_zh: str
    name_en: str
    department_zh: str


CLASS_INFO: dict[ProblemClass, ClassInfo] = {
    ProblemClass.STANDING_WATER: ClassInfo("道路积水", "Standing water", "排水"),
    ProblemClass.STREET_VENDING: ClassInfo("占道经营", "Street vending", "城管"),
    ProblemClass.OUTSIDE_STORE_BUSINESS: ClassInfo("店外经营", "Outside-store business", "城管"),
    ProblemClass.EXPOSED_GARBAGE: ClassInfo("暴露垃圾", "Exposed garbage", "环卫"),
    ProblemClass.OVERFLOWING_BIN: ClassInfo("垃圾满溢", "Overflowing bin", "环卫"),
    ProblemClass.ILLEGAL_PARKING_MOTOR: ClassInfo("机动车乱停放", "Illegal motor-vehicle parking", "交警"),
    ProblemClass.ILLEGAL_PARKING_NONMOTOR: ClassInfo(
        "非机动车乱停放", "Illegal non-motor-vehicle parking", "社区/物业"
    ),
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

# COCO labels that are evidence of a stationary-vehicle problem.
STATIONARY_EVIDENCE: dict[ProblemClass, frozenset[str]] = {
    ProblemClass.ILLEGAL_PARKING_MOTOR: frozenset({"car", "bus", "truck"}),
    ProblemClass.ILLEGAL_PARKING_NONMOTOR: frozenset({"bicycle", "motorcycle"}),
}
