"""What a pole camera does to a picture: blur, sensor noise, JPEG blocks, low resolution, night.

Sharpness matching works on the pasted bag alone (a bag sharper than the street around it is the
easiest thing for a detector to learn and the least useful); every other effect works on the whole
composed frame, so bag and background degrade together, as they would in a camera.
"""

from __future__ import annotations

import cv2
import numpy as np


def sharpness(image: np.ndarray) -> float:
    """Variance of the Laplacian of the grey image: higher is sharper."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def match_sharpness(patch: np.ndarray, background: np.ndarray) -> tuple[np.ndarray, float]:
    """Blur `patch` with the smallest Gaussian that makes it no sharper than `background`; returns sigma."""
    target = sharpness(background)
    for sigma in (0.0, 0.6, 0.9, 1.3, 1.8, 2.5):
        blurred = patch if sigma == 0 else cv2.GaussianBlur(patch, (0, 0), sigma)
        if sharpness(blurred) <= target:
            return blurred, sigma
    return blurred, sigma


def motion_blur(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A short linear smear at a random angle: camera shake on a pole in the wind."""
    length = int(rng.integers(3, 8))
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0
    rotation = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), float(rng.uniform(0, 180)), 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (length, length))
    return cv2.filter2D(image, -1, kernel / max(kernel.sum(), 1e-6))


def sensor_noise(image: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Gaussian read noise, stronger in the dark (a share of it scales with 1 - brightness)."""
    noise = rng.normal(0.0, sigma, image.shape).astype(np.float32)
    darkness = 1.5 - image.astype(np.float32) / 255.0
    return np.clip(image.astype(np.float32) + noise * darkness, 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """Re-encode at a low quality: the blocks and ringing of a busy video link."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def low_resolution(image: np.ndarray, lines: int) -> np.ndarray:
    """Down to a `lines`-line substream (240p-480p) and back up: the detail a substream loses."""
    height, width = image.shape[:2]
    if lines >= height:
        return image
    small = cv2.resize(image, (max(1, round(width * lines / height)), lines), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def night(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dark, blue-shifted, low-contrast and noisy: a street at night under sodium and LED light."""
    gain = float(rng.uniform(0.25, 0.45))
    gamma = float(rng.uniform(1.3, 1.8))
    dark = 255.0 * (image.astype(np.float32) / 255.0) ** gamma * gain
    dark *= np.array([1.25, 1.0, 0.8], np.float32)  # BGR: blue up, red down
    dark = np.clip(dark + 4.0, 0, 255).astype(np.uint8)
    return sensor_noise(dark, rng, float(rng.uniform(4.0, 8.0)))


def degrade(image: np.ndarray, rng: np.random.Generator, *, allow_night: bool = True) -> tuple[np.ndarray, list[str]]:
    """A random chain of camera effects; returns the image and the names applied, in order."""
    applied: list[str] = []
    if allow_night and rng.random() < 0.2:
        image = night(image, rng)
        applied.append("night")
    if rng.random() < 0.15:
        image = motion_blur(image, rng)
        applied.append("motion_blur")
    elif rng.random() < 0.2:
        image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.6, 1.4)))
        applied.append("gaussian_blur")
    if rng.random() < 0.35:
        lines = int(rng.choice([240, 288, 360, 480]))
        image = low_resolution(image, lines)
        applied.append(f"low_res_{lines}p")
    if rng.random() < 0.5:
        image = sensor_noise(image, rng, float(rng.uniform(2.0, 6.0)))
        applied.append("noise")
    if rng.random() < 0.5:
        quality = int(rng.integers(20, 60))
        image = jpeg(image, quality)
        applied.append(f"jpeg_q{quality}")
    return image, applied
