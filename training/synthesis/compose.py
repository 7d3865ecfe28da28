"""Paste one cut-out into a frame: scaled, colour-matched to the ground around it, shadowed, blended.

The bag is moved part of the way towards the local background's LAB statistics (lightness fully in
mean and spread, colour only a little), so it takes the scene's light and white balance but stays a
pink or blue bag; a soft elliptic shadow under it grounds it. The returned box is the tight box of
the pasted alpha above one half: the label covers what is visible, nothing of the feathered edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from training.synthesis.cutouts import Cutout
from training.synthesis.degrade import match_sharpness

# How far each LAB channel's mean and spread move to the background's: L fully, a and b a little.
LAB_PULL = np.array([0.6, 0.25, 0.25], np.float32)


@dataclass(frozen=True)
class Placed:
    """A bag ready to blend: pixels and alpha at their place in the frame."""

    x: int
    y: int
    bgr: np.ndarray  # float32
    alpha: np.ndarray  # float32 0..1
    shadow: np.ndarray  # float32 0..1, same size as the frame region it covers
    shadow_xy: tuple[int, int]
    box: tuple[int, int, int, int]  # x1, y1, x2, y2 in frame pixels
    blur_sigma: float


def place(frame: np.ndarray, cutout: Cutout, cx: float, bottom: float, height_px: float,
          rng: np.random.Generator) -> Placed | None:
    """Scale `cutout` to `height_px` with its bottom centre at (cx, bottom) pixels; None if it leaves the frame."""
    frame_h, frame_w = frame.shape[:2]
    scale = height_px / cutout.bgr.shape[0]
    width_px = max(2, round(cutout.bgr.shape[1] * scale))
    height = max(2, round(height_px))
    x, y = round(cx - width_px / 2), round(bottom - height)
    if x < 0 or y < 0 or x + width_px > frame_w or y + height > frame_h:
        return None
    bgr = cv2.resize(cutout.bgr, (width_px, height), interpolation=cv2.INTER_AREA)
    alpha = cv2.resize(cutout.alpha, (width_px, height), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        bgr, alpha = bgr[:, ::-1].copy(), alpha[:, ::-1].copy()
    ring = _surround(frame, x, y, width_px, height)
    bgr = _match_colour(bgr, alpha, ring)
    bgr, sigma = match_sharpness(bgr, frame[y:y + height, x:x + width_px])
    visible = alpha > 0.5
    if not visible.any():
        return None
    ys, xs = np.nonzero(visible)
    box = (x + int(xs.min()), y + int(ys.min()), x + int(xs.max()) + 1, y + int(ys.max()) + 1)
    shadow, shadow_xy = _shadow(frame.shape, box, rng)
    return Placed(x, y, bgr.astype(np.float32), alpha, shadow, shadow_xy, box, sigma)


def blend(frame: np.ndarray, placed: Placed) -> np.ndarray:
    """The frame with the shadow darkened in and the bag alpha-blended on top (a new array)."""
    out = frame.astype(np.float32)
    sx, sy = placed.shadow_xy
    sh, sw = placed.shadow.shape
    out[sy:sy + sh, sx:sx + sw] *= (1.0 - placed.shadow)[..., None]
    h, w = placed.alpha.shape
    region = out[placed.y:placed.y + h, placed.x:placed.x + w]
    a = placed.alpha[..., None]
    out[placed.y:placed.y + h, placed.x:placed.x + w] = placed.bgr * a + region * (1.0 - a)
    return np.clip(out, 0, 255).astype(np.uint8)


def _surround(frame: np.ndarray, x: int, y: int, w: int, h: int) -> np.ndarray:
    """The background around the paste (the box grown by its own size), as rows of BGR pixels."""
    frame_h, frame_w = frame.shape[:2]
    x1, y1 = max(0, x - w), max(0, y - h // 2)
    x2, y2 = min(frame_w, x + 2 * w), min(frame_h, y + h + h // 2)
    return frame[y1:y2, x1:x2].reshape(-1, 3)


def _match_colour(bgr: np.ndarray, alpha: np.ndarray, ring: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    ring_lab = cv2.cvtColor(ring.reshape(-1, 1, 3), cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float32)
    inside = lab[alpha > 0.5]
    if len(inside) < 4:
        return bgr
    mean, std = inside.mean(axis=0), inside.std(axis=0) + 1e-3
    target_mean = mean + LAB_PULL * (ring_lab.mean(axis=0) - mean)
    target_std = std + LAB_PULL * (ring_lab.std(axis=0) + 1e-3 - std)
    # Keep some of the bag's own contrast: a bag on flat asphalt must not vanish into it.
    target_std = np.maximum(target_std, 0.6 * std)
    matched = (lab - mean) / std * target_std + target_mean
    return cv2.cvtColor(np.clip(matched, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)


def _shadow(shape: tuple[int, ...], box: tuple[int, int, int, int],
            rng: np.random.Generator) -> tuple[np.ndarray, tuple[int, int]]:
    """A soft dark ellipse at the bag's foot, a little offset (light from one side)."""
    frame_h, frame_w = shape[:2]
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    cx = (x1 + x2) / 2 + rng.uniform(-0.15, 0.15) * w
    cy = y2 - 0.1 * h
    axes = (max(1, round(0.6 * w)), max(1, round(0.18 * h + 1)))
    sx1, sy1 = max(0, round(cx - 2 * axes[0])), max(0, round(cy - 3 * axes[1]))
    sx2, sy2 = min(frame_w, round(cx + 2 * axes[0])), min(frame_h, round(cy + 3 * axes[1]))
    mask = np.zeros((max(1, sy2 - sy1), max(1, sx2 - sx1)), np.float32)
    cv2.ellipse(mask, (round(cx - sx1), round(cy - sy1)), axes, 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), max(0.8, axes[1] * 0.8))
    return mask * float(rng.uniform(0.25, 0.5)), (sx1, sy1)
