"""Where the ground is in each shared clip, and how big a bag is there (the perspective rule).

A documented per-clip table, drawn by looking at the clips' frames with a 10 % grid: the polygon is
pavement or road a bag could lie on (no sky, façades, car roofs or tree crowns), `static` boxes are
fixed objects no bag may cover (litter bins, benches), and the bag's height is a linear function of
the normalised y of its bottom edge, `bag_top` at the polygon's top and `bag_bottom` at the frame's
bottom (fractions of the frame height). On flat ground seen by a pinhole camera the image size of
an object grows linearly with its distance below the horizon, so a line is the right shape; the
two values were set from people and cars in the frames (a person ~1.7 m, a car ~4.5 m long, a bag
~0.5 m). This is more honest than fitting the project's COCO detector on these clips: three of them
look down steeply (car boxes then measure roofs, not heights) and two show few or no people. The
detector is still run on every sampled frame, to keep bags off the cars and people it finds. A check
with its person boxes (bag = 0.5/1.7 of a person's height at the same foot y, line fitted over 6
frames) gave 0.040 at the top and 0.083 at the bottom on the pedestrian street (49 people; table
0.035/0.095) and agreed within a quarter on London at the pavement (18 people, all at y 0.58-0.65);
it gave nonsense on the stop line (seated, occluded riders) and found too few people elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from shapely.geometry import Point, Polygon


@dataclass(frozen=True)
class ClipGround:
    """One clip's ground polygon (normalised x, y), static obstacles and bag size at top and bottom."""

    clip: str
    polygon: tuple[tuple[float, float], ...]
    bag_top: float
    bag_bottom: float
    static: tuple[tuple[float, float, float, float], ...] = ()
    note: str = ""

    @property
    def shape(self) -> Polygon:
        return Polygon(self.polygon)

    @property
    def y_top(self) -> float:
        return min(y for _, y in self.polygon)

    def bag_height(self, y: float) -> float:
        """Expected bag height (fraction of frame height) for a bag whose bottom edge is at y (0..1)."""
        t = (y - self.y_top) / max(1e-6, 1.0 - self.y_top)
        return self.bag_top + (self.bag_bottom - self.bag_top) * t

    def contains(self, x: float, y: float) -> bool:
        return self.shape.contains(Point(x, y))

    def sample_point(self, rng: np.random.Generator) -> tuple[float, float]:
        """A point uniform over the polygon (rejection sampling in its bounds)."""
        x1, y1, x2, y2 = self.shape.bounds
        for _ in range(1000):
            x, y = rng.uniform(x1, x2), rng.uniform(y1, y2)
            if self.contains(x, y):
                return float(x), float(y)
        raise ValueError(f"{self.clip}: ground polygon too thin to sample")


GROUND: dict[str, ClipGround] = {g.clip: g for g in (
    ClipGround(
        "residential-street-parked-cars",
        ((0.0, 0.40), (0.55, 0.22), (1.0, 0.14), (1.0, 0.62), (0.78, 0.62), (0.78, 0.98), (0.0, 0.98)),
        0.030, 0.055,
        note="high window over the street: road and both curbs (parked cars are avoided per frame); the yard "
             "and tree at the right and the gravel strip at the bottom are left out",
    ),
    ClipGround(
        "london-street-1080p",
        ((0.0, 0.66), (0.45, 0.61), (1.0, 0.64), (1.0, 1.0), (0.0, 1.0)),
        0.05, 0.22,
        note="street-level camera: the carriageway and the near pavement; horizon at about y 0.45, so bags "
             "near the bottom are big (the rule, not a close-up photo)",
    ),
    ClipGround(
        "city-traffic-1080p-vp9",
        ((0.35, 0.56), (0.64, 0.56), (0.80, 1.0), (0.20, 1.0)),
        0.018, 0.045,
        note="the near part of the avenue (farther up the detector misses the small queued cars a bag would "
             "cover); mostly covered by queued cars, which are avoided per frame",
    ),
    ClipGround(
        "highway-720p",
        ((0.44, 0.10), (0.60, 0.10), (0.98, 0.88), (0.98, 1.0), (0.04, 1.0), (0.22, 0.55)),
        0.010, 0.055,
        note="motorway from an overpass: lanes and hard shoulders (debris on a motorway)",
    ),
    ClipGround(
        "stopline-motorcycles",
        ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)),
        0.18, 0.24,
        note="close traffic-enforcement camera looking down at the stop line: the whole frame is road; "
             "riders are avoided per frame, so most bags land after the motorcycles leave",
    ),
    ClipGround(
        "pedestrian-street-1080p",
        ((0.0, 0.42), (0.30, 0.30), (0.50, 0.20), (0.75, 0.20), (0.95, 0.34), (0.93, 0.75), (0.88, 0.95),
         (0.88, 1.0), (0.0, 1.0)),
        0.035, 0.095,
        static=((0.31, 0.20, 0.43, 0.34), (0.645, 0.58, 0.715, 0.75), (0.78, 0.27, 0.82, 0.39),
                (0.78, 0.21, 0.87, 0.32)),
        note="elevated view of a shopping street: paving between the shop fronts; the two litter bins and "
             "the benches are static obstacles",
    ),
    ClipGround(
        "night-wet-square-240p",
        ((0.0, 0.74), (0.45, 0.70), (1.0, 0.68), (1.0, 1.0), (0.0, 1.0)),
        0.05, 0.10,
        note="square at night: the wet paving in front of the shops (240p, so bags are 12-24 px high)",
    ),
)}
