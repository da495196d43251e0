# Copyright 2026 viltrack_ros developers
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""
Synthetic tracking sequences: textured objects moving over real photographs, with exact ground truth.

No tracking data set can be downloaded here, so the generator makes the situations a tracker must handle: motion
with sudden fast moves, scale change, rotation, non-rigid aspect change, motion and defocus blur, global and local
illumination change, occlusion by a passing occluder, similar-looking distractors, clutter, camera motion and
sensor noise. Targets are random shapes with procedural textures or patches cut from real photos.

Everything is derived from one seed: a scene's trajectories are computed up front (cheap) and frames are rendered
on demand, so a training sample that needs 3 frames of a 100-frame sequence renders only those 3. Ground-truth boxes
are the bounding boxes of the target's rasterised alpha mask (> 0.5) in the frame, clipped to the frame, computed
with the same warp that renders the target; frames where less than ``min_visible_fraction`` of the target is
visible (occluded or out of the frame) get a NaN box, like absent frames in real data sets.

Backgrounds: real photos from Debian's ``opencv-doc`` package (``/usr/share/doc/opencv-doc/examples/data``) and
optionally frames of development sequences; procedural backgrounds (with a logged warning) if none are found.
"""
from __future__ import annotations

import functools
import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from viltrack_ros.data.sequences import IMAGE_SUFFIXES, Sequence, read_image_rgb
from viltrack_ros.log import get_logger

LOGGER = get_logger(__name__)

OPENCV_DOC_IMAGE_DIR = Path("/usr/share/doc/opencv-doc/examples/data")
# Photos smaller than this are icons/masks, not scenes.
MIN_BACKGROUND_SIDE = 200
# Decoded photos are cached at most this large: enough for 480x640 frames with camera zoom, bounded memory.
MAX_CACHED_SIDE = 1024
SPRITE_BASE_SIDE = 128
# opencv-doc files that are drawings, renderings of text or maps rather than photos of scenes, and the 26
# near-identical chessboard calibration shots (two are kept): they would teach the tracker a narrow world.
OPENCV_DOC_NOT_PHOTOS = frozenset({
    "LinuxLogo", "WindowsLogo", "aloeGT", "cards", "chessboard", "detect_blob", "digits", "ellipses", "gradient",
    "imageTextN", "imageTextR", "ml", "opencv-logo", "opencv-logo-white", "pca_test1", "pic1", "pic2", "pic3",
    "pic4", "pic5", "pic6", "mask", "templ", "tmpl"})
_CALIBRATION_SHOT = re.compile(r"(left|right)\d\d")
_CALIBRATION_SHOTS_KEPT = frozenset({"left01", "right07"})


@dataclass(frozen=True)
class SyntheticConfig:
    """
    Ranges from which each sequence draws its own settings.

    Sizes are ``(height, width)``; speeds are in fractions of the frame diagonal per frame.
    """

    frame_size: tuple[int, int] = (360, 480)
    num_frames: int = 100
    object_size_range: tuple[float, float] = (0.04, 0.35)    # sqrt(area) / shorter frame side
    aspect_ratio_range: tuple[float, float] = (0.33, 3.0)    # width / height
    max_speed: float = 0.025
    fast_motion_probability: float = 0.03                    # per frame: a sudden new velocity up to 3x max_speed
    max_scale_change: float = 0.03                           # per frame, in log-scale
    max_rotation_deg: float = 4.0                            # per frame
    rotation_probability: float = 0.5                        # sequences whose target rotates at all
    deformation: float = 0.25                                # amplitude of log aspect change
    num_distractors_range: tuple[int, int] = (0, 3)          # similar-looking objects
    num_clutter_range: tuple[int, int] = (0, 4)              # unrelated objects
    occlusion_probability: float = 0.5
    blur_probability: float = 0.4
    illumination_change: float = 0.35                        # amplitude of gain change
    camera_motion: float = 0.006                             # camera pan speed
    noise_std_range: tuple[float, float] = (0.0, 6.0)
    photo_texture_probability: float = 0.5                   # target texture cut from a photo vs procedural
    min_visible_fraction: float = 0.2
    min_object_pixels: float = 6.0

    def __post_init__(self) -> None:
        if self.num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {self.num_frames}")
        if min(self.frame_size) < 32:
            raise ValueError(f"frame_size must be at least 32x32, got {self.frame_size}")
        low, high = self.object_size_range
        if not 0 < low <= high <= 1:
            raise ValueError(f"object_size_range must satisfy 0 < low <= high <= 1, got {self.object_size_range}")


# ----------------------------------------------------------------------------------------------------------------
# backgrounds

def find_background_images(directories: Iterable[str | Path] = (OPENCV_DOC_IMAGE_DIR,)) -> list[Path]:
    """
    Find photos usable as backgrounds (and static-image pairs).

    They are image files at least ``MIN_BACKGROUND_SIDE`` pixels on each side, sorted so that a seed picks the same
    photo on every machine with the same files. In the opencv-doc folder, files listed in ``OPENCV_DOC_NOT_PHOTOS``
    and most calibration shots are skipped.
    """
    found = []
    for directory in directories:
        directory = Path(directory)
        if not directory.is_dir():
            continue
        is_opencv_doc = directory.resolve() == OPENCV_DOC_IMAGE_DIR.resolve()
        for path in sorted(directory.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            if is_opencv_doc and (path.stem in OPENCV_DOC_NOT_PHOTOS or (
                    _CALIBRATION_SHOT.fullmatch(path.stem) and path.stem not in _CALIBRATION_SHOTS_KEPT)):
                continue
            image = _load_photo(str(path))
            if image is not None and min(image.shape[:2]) >= MIN_BACKGROUND_SIDE:
                found.append(path)
    return found


def sequence_frame_paths(sequences: Iterable[Sequence], frames_per_sequence: int = 8) -> list[Path]:
    """Evenly spaced frame files of ``sequences`` (use development sequences only), as extra real backgrounds."""
    paths = []
    for sequence in sequences:
        if not sequence.frame_paths:
            continue
        picks = np.linspace(0, len(sequence.frame_paths) - 1, min(frames_per_sequence, len(sequence.frame_paths)))
        paths.extend(sequence.frame_paths[int(round(i))] for i in picks)
    return paths


@functools.lru_cache(maxsize=256)
def _load_photo(path: str) -> np.ndarray | None:
    try:
        image = read_image_rgb(path)
    except (OSError, ValueError):
        return None
    longest = max(image.shape[:2])
    if longest > MAX_CACHED_SIDE:
        factor = MAX_CACHED_SIDE / longest
        image = cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    image.setflags(write=False)
    return image


class PhotoLibrary:
    """Real photos for backgrounds and photo textures, with a procedural fallback when there are none."""

    def __init__(self, paths: Iterable[str | Path] | None = None):
        self.paths = [Path(p) for p in (find_background_images() if paths is None else paths)]
        if not self.paths:
            LOGGER.warning("no background photos found (install Debian's opencv-doc for %s); synthetic "
                           "sequences use procedural backgrounds, which look less like real video",
                           OPENCV_DOC_IMAGE_DIR)

    def __len__(self) -> int:
        return len(self.paths)

    def fingerprint(self, length: int = 8) -> str:
        """
        Return a digest of the photos' names and sizes ("none" without photos).

        Synthetic frames made with one library are not another's: a cache cut on a machine without opencv-doc
        (procedural backgrounds) must not stand in for one with its photos.
        """
        if not self.paths:
            return "none"
        digest = hashlib.sha256()
        for path in sorted(self.paths):
            try:
                size = path.stat().st_size
            except OSError:
                size = -1
            digest.update(f"{path.name}:{size}\n".encode())
        return digest.hexdigest()[:length]

    def photo(self, rng: np.random.Generator) -> np.ndarray:
        """Return a random photo, RGB uint8 and read-only, or a procedural image when the library is empty."""
        for _ in range(4):
            if not self.paths:
                break
            image = _load_photo(str(self.paths[int(rng.integers(len(self.paths)))]))
            if image is not None:
                return image
        return procedural_texture(rng, 512, 640)


@functools.lru_cache(maxsize=1)
def default_photo_library() -> PhotoLibrary:
    return PhotoLibrary()


# ----------------------------------------------------------------------------------------------------------------
# appearance

def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, size=3).astype(np.float32)


def procedural_texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """
    Make a random colour texture ``(height, width, 3)`` uint8.

    The texture is gratings, smooth colour noise, checks or spots, sometimes two of them blended.
    """
    def one_layer() -> np.ndarray:
        kind = rng.integers(4)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        if kind == 0:      # sum of oriented sinusoidal gratings, each between two colours
            image = np.zeros((height, width, 3), np.float32)
            for _ in range(rng.integers(1, 4)):
                angle = rng.uniform(0, math.pi)
                period = rng.uniform(4, 48)
                phase = (xs * math.cos(angle) + ys * math.sin(angle)) * (2 * math.pi / period)
                weight = (0.5 + 0.5 * np.sin(phase + rng.uniform(0, 2 * math.pi)))[..., None]
                image += weight * _random_colour(rng) + (1 - weight) * _random_colour(rng)
            return image / image.reshape(-1, 3).max(axis=0).clip(1, None) * 255
        if kind == 1:      # smooth colour noise at a random grain
            cells = int(rng.integers(2, 16))
            small = rng.uniform(0, 255, size=(cells, cells, 3)).astype(np.float32)
            image = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
            return image + rng.normal(0, rng.uniform(0, 20), size=(height, width, 1)).astype(np.float32)
        if kind == 2:      # checks or stripes, rotated
            angle = rng.uniform(0, math.pi)
            cell = rng.uniform(4, 32)
            u = (xs * math.cos(angle) + ys * math.sin(angle)) / cell
            v = (-xs * math.sin(angle) + ys * math.cos(angle)) / cell
            pattern = (np.floor(u) + (np.floor(v) if rng.random() < 0.5 else 0)) % 2
            return np.where(pattern[..., None] > 0, _random_colour(rng), _random_colour(rng))
        image = np.empty((height, width, 3), np.float32)  # spots on a base colour
        image[:] = _random_colour(rng)
        for _ in range(rng.integers(3, 25)):
            centre = (int(rng.integers(width)), int(rng.integers(height)))
            radius = int(rng.integers(2, max(3, min(height, width) // 4)))
            cv2.circle(image, centre, radius, _random_colour(rng).tolist(), -1, cv2.LINE_AA)
        return image

    image = one_layer()
    if rng.random() < 0.4:
        mix = rng.uniform(0.2, 0.6)
        image = (1 - mix) * image + mix * one_layer()
    return np.clip(image, 0, 255).astype(np.uint8)


def random_shape_mask(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """
    Make an anti-aliased alpha mask ``(height, width)`` float32 in [0, 1] that fills most of its canvas.

    The shape is an ellipse, rounded rectangle, random polygon or smooth blob.
    """
    mask = np.zeros((height, width), np.uint8)
    kind = rng.integers(4)
    if kind == 0:
        cv2.ellipse(mask, (width // 2, height // 2), (width // 2 - 1, height // 2 - 1), 0, 0, 360, 255, -1,
                    cv2.LINE_AA)
    elif kind == 1:
        radius = int(rng.uniform(0, 0.3) * min(height, width))
        cv2.rectangle(mask, (radius, 0), (width - 1 - radius, height - 1), 255, -1)
        cv2.rectangle(mask, (0, radius), (width - 1, height - 1 - radius), 255, -1)
        for cx, cy in ((radius, radius), (width - 1 - radius, radius), (radius, height - 1 - radius),
                       (width - 1 - radius, height - 1 - radius)):
            cv2.circle(mask, (cx, cy), radius, 255, -1, cv2.LINE_AA)
    elif kind == 2:
        count = int(rng.integers(5, 12))
        angles = np.sort(rng.uniform(0, 2 * math.pi, count))
        radii = rng.uniform(0.55, 1.0, count)
        points = np.stack([width / 2 + radii * np.cos(angles) * (width / 2 - 1),
                           height / 2 + radii * np.sin(angles) * (height / 2 - 1)], axis=1)
        cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 255, cv2.LINE_AA)
    else:
        cells = int(rng.integers(3, 6))
        noise = cv2.resize(rng.uniform(0, 1, (cells, cells)).astype(np.float32), (width, height),
                           interpolation=cv2.INTER_CUBIC)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        radial = 1 - np.hypot((xs - width / 2) / (width / 2), (ys - height / 2) / (height / 2))
        blob = (radial + 0.5 * noise) > 0.55
        count, labels, stats, _ = cv2.connectedComponentsWithStats(blob.astype(np.uint8))
        if count > 1:   # keep one piece: a target is one object
            largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            mask[labels == largest] = 255
        else:
            cv2.ellipse(mask, (width // 2, height // 2), (width // 2 - 1, height // 2 - 1), 0, 0, 360, 255, -1)
    return mask.astype(np.float32) / 255.0


@dataclass(frozen=True, eq=False)
class Sprite:
    """An object's appearance: colour ``(h, w, 3)`` float32 and alpha ``(h, w)`` float32 in [0, 1]."""

    rgb: np.ndarray
    alpha: np.ndarray

    @property
    def alpha_area(self) -> float:
        return float(self.alpha.sum())


def texture_score(image: np.ndarray) -> float:
    """Mean gradient magnitude of a uint8 RGB image: how much structure a tracker could lock onto."""
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return float(np.mean(np.abs(cv2.Sobel(gray, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1))))


def make_target_sprite(rng: np.random.Generator, photos: PhotoLibrary, aspect_ratio: float,
                       photo_texture_probability: float) -> Sprite:
    width = int(round(SPRITE_BASE_SIDE * math.sqrt(aspect_ratio)))
    height = int(round(SPRITE_BASE_SIDE / math.sqrt(aspect_ratio)))
    width, height = max(width, 8), max(height, 8)
    if len(photos) and rng.random() < photo_texture_probability:
        photo = photos.photo(rng)
        ph, pw = photo.shape[:2]
        candidates = []
        for _ in range(4):   # of a few random patches keep the most textured: a flat grey patch is no target
            side = rng.uniform(0.15, 0.6) * min(ph, pw)
            cw, ch = min(side * math.sqrt(aspect_ratio), pw - 1), min(side / math.sqrt(aspect_ratio), ph - 1)
            x0, y0 = rng.uniform(0, pw - cw), rng.uniform(0, ph - ch)
            patch = cv2.resize(np.ascontiguousarray(photo[int(y0):int(y0 + ch), int(x0):int(x0 + cw)]),
                               (width, height), interpolation=cv2.INTER_AREA)
            candidates.append((texture_score(patch), len(candidates), patch))
        texture = max(candidates)[2]
    else:
        texture = procedural_texture(rng, height, width)
    rgb = texture.astype(np.float32)
    # A light shading gradient across the object, as a lit 3-D object would show.
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    angle = rng.uniform(0, 2 * math.pi)
    ramp = ((xs / width - 0.5) * math.cos(angle) + (ys / height - 0.5) * math.sin(angle))[..., None]
    rgb = np.clip(rgb * (1 + rng.uniform(0, 0.5) * ramp), 0, 255)
    alpha = random_shape_mask(rng, height, width) if rng.random() < 0.75 else np.ones((height, width), np.float32)
    return Sprite(rgb=rgb, alpha=alpha)


def make_distractor_sprite(rng: np.random.Generator, target: Sprite) -> Sprite:
    """Make a similar-looking object: the target's appearance with a small hue/brightness change and its own shape."""
    hsv = cv2.cvtColor(target.rgb.astype(np.uint8), cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 0] = (hsv[..., 0] + rng.uniform(-12, 12)) % 180
    hsv[..., 2] = np.clip(hsv[..., 2] * rng.uniform(0.8, 1.2), 0, 255)
    rgb = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
    if rng.random() < 0.5:
        rgb = rgb[:, ::-1].copy()
    alpha = target.alpha if rng.random() < 0.6 else random_shape_mask(rng, *target.alpha.shape)
    return Sprite(rgb=rgb, alpha=alpha)


def make_occluder_sprite(rng: np.random.Generator, photos: PhotoLibrary) -> Sprite:
    """Make a pole-like bar or a large blob, textured from a photo; its trajectory scales it to the target's size."""
    if rng.random() < 0.5:
        length, thickness = SPRITE_BASE_SIDE * 4, SPRITE_BASE_SIDE * rng.uniform(0.4, 1.0)
        height, width = int(length), int(thickness)
        alpha = np.ones((height, width), np.float32)
    else:
        height = width = SPRITE_BASE_SIDE
        alpha = random_shape_mask(rng, height, width)
    photo = photos.photo(rng)
    ph, pw = photo.shape[:2]
    y0, x0 = int(rng.integers(0, max(1, ph // 2))), int(rng.integers(0, max(1, pw // 2)))
    rgb = cv2.resize(np.ascontiguousarray(photo[y0:, x0:]), (width, height), interpolation=cv2.INTER_LINEAR)
    return Sprite(rgb=rgb.astype(np.float32), alpha=alpha)


# ----------------------------------------------------------------------------------------------------------------
# motion

@dataclass(frozen=True, eq=False)
class Trajectory:
    """
    Per-frame pose of a sprite.

    Fields: centre ``(N, 2)`` in frame pixels, ``scale`` (N,) frame pixels per sprite pixel, ``angle`` (N,) degrees,
    ``log_aspect`` (N,) non-rigid stretch, ``velocity`` (N, 2) px/frame.
    """

    centre: np.ndarray
    scale: np.ndarray
    angle: np.ndarray
    log_aspect: np.ndarray
    velocity: np.ndarray

    def matrix(self, index: int, sprite: Sprite) -> np.ndarray:
        """2x3 affine from sprite pixels to frame pixels at frame ``index``."""
        height, width = sprite.alpha.shape
        stretch = math.exp(0.5 * self.log_aspect[index])
        theta = math.radians(self.angle[index])
        cos, sin = math.cos(theta), math.sin(theta)
        linear = np.array([[cos, -sin], [sin, cos]]) @ np.diag([stretch, 1 / stretch]) * self.scale[index]
        offset = self.centre[index] - linear @ np.array([width / 2, height / 2])
        return np.hstack([linear, offset[:, None]])


def random_trajectory(rng: np.random.Generator, config: SyntheticConfig, sprite: Sprite, side_px: float,
                      speed_factor: float = 1.0) -> Trajectory:
    """
    Draw a smooth random motion inside the frame with occasional fast moves.

    The sprite's sqrt(area) starts at ``side_px`` and drifts in scale, rotation and aspect.
    """
    frames = config.num_frames
    height, width = config.frame_size
    diagonal = math.hypot(height, width)
    max_speed = config.max_speed * diagonal * speed_factor
    base_side = math.sqrt(max(sprite.alpha_area, 1.0))
    min_side, max_side = config.min_object_pixels, 0.7 * min(height, width)

    centre = np.empty((frames, 2))
    velocity = np.empty((frames, 2))
    side = np.empty(frames)
    angle = np.empty(frames)
    log_aspect = np.empty(frames)

    position = np.array([rng.uniform(0.15, 0.85) * width, rng.uniform(0.15, 0.85) * height])
    heading = rng.uniform(0, 2 * math.pi)
    speed_now = rng.uniform(0, max_speed)
    vel = speed_now * np.array([math.cos(heading), math.sin(heading)])
    log_side, log_side_rate = math.log(side_px), 0.0
    rotating = rng.random() < config.rotation_probability
    theta, theta_rate = (rng.uniform(-30, 30) if rotating else 0.0), 0.0
    aspect_phase, aspect_period = rng.uniform(0, 2 * math.pi), rng.uniform(20, 80)
    aspect_amplitude = rng.uniform(0, config.deformation)
    for i in range(frames):
        if i > 0:
            if rng.random() < config.fast_motion_probability:
                heading = rng.uniform(0, 2 * math.pi)
                vel = rng.uniform(1, 3) * max_speed * np.array([math.cos(heading), math.sin(heading)])
            else:
                vel = vel + rng.normal(0, 0.15 * max_speed + 1e-6, 2)
                speed_now = float(np.hypot(*vel))
                if speed_now > max_speed:
                    vel *= 0.8 + 0.2 * max_speed / speed_now   # decays back towards the normal speed range
            position = position + vel
            # Bounce so that the centre stays in the frame; the object may still leave it partly.
            for axis, limit in ((0, width), (1, height)):
                if position[axis] < 0 or position[axis] > limit:
                    position[axis] = min(max(position[axis], 0.0), float(limit))
                    vel[axis] = -vel[axis]
            log_side_rate = float(np.clip(log_side_rate + rng.normal(0, 0.3 * config.max_scale_change),
                                          -config.max_scale_change, config.max_scale_change))
            log_side += log_side_rate
            if not math.log(min_side) <= log_side <= math.log(max_side):
                log_side = float(np.clip(log_side, math.log(min_side), math.log(max_side)))
                log_side_rate = -log_side_rate
            if rotating:
                theta_rate = float(np.clip(theta_rate + rng.normal(0, 0.4 * config.max_rotation_deg),
                                           -config.max_rotation_deg, config.max_rotation_deg))
                theta += theta_rate
        centre[i], velocity[i] = position, vel
        side[i], angle[i] = math.exp(log_side), theta
        log_aspect[i] = aspect_amplitude * math.sin(2 * math.pi * i / aspect_period + aspect_phase)
    return Trajectory(centre=centre, scale=side / base_side, angle=angle, log_aspect=log_aspect, velocity=velocity)


def _crossing_trajectory(rng: np.random.Generator, config: SyntheticConfig, target: Trajectory,
                         occluder: Sprite, target_side: np.ndarray) -> Trajectory:
    """Move an occluder in a straight line that passes over the target's centre at a random frame."""
    frames = config.num_frames
    meet = int(rng.integers(frames // 5, max(frames // 5 + 1, frames)))
    heading = rng.uniform(0, 2 * math.pi)
    speed = rng.uniform(0.5, 2.0) * max(config.max_speed * math.hypot(*config.frame_size), 1.0)
    vel = speed * np.array([math.cos(heading), math.sin(heading)])
    steps = np.arange(frames) - meet
    centre = target.centre[meet] + rng.normal(0, 0.2 * target_side[meet], 2) + steps[:, None] * vel
    # The occluder's shorter side is about as large as the target, so it can hide it completely.
    width = occluder.alpha.shape[1]
    scale = np.full(frames, rng.uniform(0.8, 2.0) * target_side[meet] / min(width, occluder.alpha.shape[0]))
    angle = np.full(frames, rng.uniform(-20, 20) if occluder.alpha.shape[0] > occluder.alpha.shape[1]
                    else rng.uniform(0, 360))
    return Trajectory(centre=centre, scale=scale, angle=angle, log_aspect=np.zeros(frames),
                      velocity=np.repeat(vel[None], frames, axis=0))


# ----------------------------------------------------------------------------------------------------------------
# rendering

def _roi(matrix: np.ndarray, sprite: Sprite, frame_shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """Integer frame region ``(x0, y0, x1, y1)`` covered by the warped sprite, or None if outside the frame."""
    height, width = sprite.alpha.shape
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], dtype=np.float64)
    points = corners @ matrix.T
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + 1
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, frame_shape[1]), min(y1, frame_shape[0])
    if x1 <= x0 or y1 <= y0:
        return None
    return int(x0), int(y0), int(x1), int(y1)


def _warp_into(source: np.ndarray, matrix: np.ndarray, roi: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = roi
    shifted = matrix.copy()
    shifted[:, 2] -= (x0, y0)
    return cv2.warpAffine(source, shifted, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _line_kernel(length: float, angle: float) -> np.ndarray | None:
    """Return a normalised motion-blur kernel of ``length`` pixels along ``angle`` (radians); None when negligible."""
    size = int(min(round(length), 25))
    if size < 2:
        return None
    size += 1 - size % 2
    kernel = np.zeros((size, size), np.float32)
    half = size // 2
    dx, dy = math.cos(angle) * half, math.sin(angle) * half
    cv2.line(kernel, (int(round(half - dx)), int(round(half - dy))), (int(round(half + dx)), int(round(half + dy))),
             1.0, 1, cv2.LINE_AA)
    return kernel / kernel.sum()


def _composite(frame: np.ndarray, sprite: Sprite, matrix: np.ndarray, gain: float = 1.0,
               blur_kernel: np.ndarray | None = None) -> None:
    """Alpha-blend the warped sprite into ``frame`` (float32, in place)."""
    roi = _roi(matrix, sprite, frame.shape[:2])
    if roi is None:
        return
    x0, y0, x1, y1 = roi
    alpha = _warp_into(sprite.alpha, matrix, roi)
    premultiplied = _warp_into(sprite.rgb, matrix, roi) * (alpha[..., None] * gain)
    if blur_kernel is not None:
        # Blurring colour premultiplied by alpha smears the object's edge into the background, as motion does.
        alpha = cv2.filter2D(alpha, -1, blur_kernel, borderType=cv2.BORDER_CONSTANT)
        premultiplied = cv2.filter2D(premultiplied, -1, blur_kernel, borderType=cv2.BORDER_CONSTANT)
    region = frame[y0:y1, x0:x1]
    region *= 1 - alpha[..., None]
    region += premultiplied


@dataclass(eq=False)
class SyntheticScene:
    """Everything one synthetic sequence needs to render any of its frames."""

    config: SyntheticConfig
    seed: int
    background: np.ndarray
    camera: np.ndarray                 # (N, 3): background x, y of the frame centre, zoom
    target: Sprite
    target_motion: Trajectory
    others: list[tuple[Sprite, Trajectory]]    # distractors and clutter, drawn behind the target
    occluder: tuple[Sprite, Trajectory] | None
    frame_gain: np.ndarray             # (N,) global illumination
    gradient: np.ndarray               # (N, 2): strength and direction of a light gradient across the frame
    target_gain: np.ndarray            # (N,) illumination of the target alone
    blur_exposure: float               # 0 = no motion blur; else fraction of a frame's motion smeared
    defocus: np.ndarray                # (N,) Gaussian blur sigma, mostly 0
    noise_std: float
    boxes: np.ndarray = field(init=False)
    visible_fraction: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.boxes, self.visible_fraction = self._measure_target()

    def _measure_target(self) -> tuple[np.ndarray, np.ndarray]:
        """Exact boxes from the rasterised target mask, and the visible part of the target per frame."""
        frames = self.config.num_frames
        frame_shape = self.config.frame_size
        boxes = np.full((frames, 4), np.nan)
        visible = np.zeros(frames)
        for i in range(frames):
            matrix = self.target_motion.matrix(i, self.target)
            roi = _roi(matrix, self.target, frame_shape)
            if roi is None:
                continue
            alpha = _warp_into(self.target.alpha, matrix, roi)
            inside = alpha > 0.5
            if not inside.any():
                continue
            ys, xs = np.nonzero(inside)
            x0, y0 = roi[:2]
            boxes[i] = (x0 + xs.min(), y0 + ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)
            covered = 0.0
            if self.occluder is not None:
                sprite, motion = self.occluder
                covered = float((alpha * _warp_into(sprite.alpha, motion.matrix(i, sprite), roi)).sum())
            # Total area counts the part outside the frame too, so leaving the frame also lowers visibility.
            total = self.target.alpha_area * abs(np.linalg.det(matrix[:, :2]))
            visible[i] = max(float(alpha.sum()) - covered, 0.0) / max(total, 1e-6)
        boxes[visible < self.config.min_visible_fraction] = np.nan
        return boxes, np.clip(visible, 0.0, 1.0)

    def render(self, index: int) -> np.ndarray:
        """Frame ``index`` as RGB uint8 ``(H, W, 3)``; the same index always gives the same image."""
        height, width = self.config.frame_size
        rng = np.random.default_rng([self.seed, index, 1])
        cam_x, cam_y, zoom = self.camera[index]
        camera_matrix = np.array([[zoom, 0, width / 2 - zoom * cam_x], [0, zoom, height / 2 - zoom * cam_y]])
        frame = cv2.warpAffine(self.background, camera_matrix, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT101).astype(np.float32)
        for sprite, motion in self.others:
            _composite(frame, sprite, motion.matrix(index, sprite), blur_kernel=self._blur(motion, index))
        _composite(frame, self.target, self.target_motion.matrix(index, self.target),
                   gain=float(self.target_gain[index]), blur_kernel=self._blur(self.target_motion, index))
        if self.occluder is not None:
            sprite, motion = self.occluder
            _composite(frame, sprite, motion.matrix(index, sprite), blur_kernel=self._blur(motion, index))
        strength, direction = self.gradient[index]
        corners = np.array([[-1, 1], [-1, 1]], np.float32)
        ramp = math.cos(direction) * corners + math.sin(direction) * corners.T
        gain_map = cv2.resize(self.frame_gain[index] * (1 + strength * ramp), (width, height),
                              interpolation=cv2.INTER_LINEAR)
        frame *= gain_map[..., None]
        if self.blur_exposure > 0 and index > 0:
            pan = (self.camera[index, :2] - self.camera[index - 1, :2]) * zoom
            kernel = _line_kernel(self.blur_exposure * float(np.hypot(*pan)), math.atan2(pan[1], pan[0]))
            if kernel is not None:
                frame = cv2.filter2D(frame, -1, kernel, borderType=cv2.BORDER_REFLECT101)
        if self.defocus[index] > 0:
            frame = cv2.GaussianBlur(frame, (0, 0), float(self.defocus[index]))
        if self.noise_std > 0:
            frame += self.noise_std * rng.standard_normal((height, width, 1), dtype=np.float32)
        return np.clip(frame, 0, 255).astype(np.uint8)

    def _blur(self, motion: Trajectory, index: int) -> np.ndarray | None:
        if self.blur_exposure <= 0:
            return None
        vx, vy = motion.velocity[index]
        return _line_kernel(self.blur_exposure * math.hypot(vx, vy), math.atan2(vy, vx))


def build_scene(seed: int, config: SyntheticConfig = SyntheticConfig(),
                photos: PhotoLibrary | None = None) -> SyntheticScene:
    """Draw every random choice of one synthetic sequence from ``seed``."""
    photos = default_photo_library() if photos is None else photos
    rng = np.random.default_rng(seed)
    frames = config.num_frames
    height, width = config.frame_size
    short_side = min(height, width)

    photo = photos.photo(rng)
    # The background is scaled so that the camera can pan and zoom without showing its edge.
    cover = 1.4 * max(height / photo.shape[0], width / photo.shape[1])
    background = cv2.resize(photo, None, fx=cover, fy=cover, interpolation=cv2.INTER_LINEAR)
    bg_h, bg_w = background.shape[:2]
    camera = np.empty((frames, 3))
    cam = np.array([bg_w / 2, bg_h / 2]) + rng.uniform(-0.1, 0.1, 2) * (bg_w, bg_h)
    cam_velocity = rng.normal(0, config.camera_motion * math.hypot(height, width), 2)
    zoom, zoom_rate = 1.0, 0.0
    for i in range(frames):
        if i > 0:
            cam_velocity = 0.9 * cam_velocity + rng.normal(0, 0.5 * config.camera_motion * math.hypot(height, width), 2)
            cam = cam + cam_velocity
            zoom_rate = float(np.clip(zoom_rate + rng.normal(0, 0.003), -0.01, 0.01))
            zoom = float(np.clip(zoom + zoom_rate, 0.9, 1.3))
        # Keep the view inside the background (reflecting the velocity at the edges).
        for axis, limit in ((0, bg_w), (1, bg_h)):
            half_view = (width if axis == 0 else height) / (2 * zoom)
            low, high = half_view, limit - half_view
            if not low <= cam[axis] <= high:
                cam[axis] = float(np.clip(cam[axis], low, max(low, high)))
                cam_velocity[axis] = -cam_velocity[axis]
        camera[i] = (cam[0], cam[1], zoom)

    aspect = math.exp(rng.uniform(*np.log(config.aspect_ratio_range)))
    target = make_target_sprite(rng, photos, aspect, config.photo_texture_probability)
    log_low, log_high = np.log(config.object_size_range)
    target_side = max(math.exp(rng.uniform(log_low, log_high)) * short_side, config.min_object_pixels)
    target_motion = random_trajectory(rng, config, target, target_side)
    target_sides = target_motion.scale * math.sqrt(target.alpha_area)

    others = []
    for _ in range(int(rng.integers(config.num_distractors_range[0], config.num_distractors_range[1] + 1))):
        sprite = make_distractor_sprite(rng, target)
        side = target_side * rng.uniform(0.7, 1.3)
        others.append((sprite, random_trajectory(rng, config, sprite, side)))
    for _ in range(int(rng.integers(config.num_clutter_range[0], config.num_clutter_range[1] + 1))):
        sprite = make_target_sprite(rng, photos, math.exp(rng.uniform(-1, 1)), config.photo_texture_probability)
        side = math.exp(rng.uniform(log_low, log_high)) * short_side
        others.append((sprite, random_trajectory(rng, config, sprite, max(side, config.min_object_pixels),
                                                 speed_factor=0.5)))

    occluder = None
    if frames > 2 and rng.random() < config.occlusion_probability:
        sprite = make_occluder_sprite(rng, photos)
        occluder = (sprite, _crossing_trajectory(rng, config, target_motion, sprite, target_sides))

    steps = np.arange(frames)
    amplitude = rng.uniform(0, config.illumination_change)
    frame_gain = 1 + amplitude * np.sin(2 * math.pi * steps / rng.uniform(20, 80) + rng.uniform(0, 2 * math.pi))
    if rng.random() < 0.2:   # a light switched on or off
        frame_gain[int(rng.integers(frames)):] *= rng.uniform(0.6, 1.4)
    frame_gain *= rng.uniform(0.8, 1.2)
    gradient = np.stack([rng.uniform(0, 0.5 * config.illumination_change) * np.sin(
        2 * math.pi * steps / rng.uniform(30, 120) + rng.uniform(0, 2 * math.pi)),
        np.full(frames, rng.uniform(0, 2 * math.pi))], axis=1)
    target_gain = 1 + rng.uniform(0, config.illumination_change) * np.sin(
        2 * math.pi * steps / rng.uniform(15, 60) + rng.uniform(0, 2 * math.pi))
    blur_exposure = rng.uniform(0.3, 1.0) if rng.random() < config.blur_probability else 0.0
    defocus = np.where(rng.random(frames) < 0.05 * (blur_exposure > 0), rng.uniform(0.5, 2.0, frames), 0.0)
    noise_std = rng.uniform(*config.noise_std_range)
    return SyntheticScene(config=config, seed=seed, background=background, camera=camera, target=target,
                          target_motion=target_motion, others=others, occluder=occluder, frame_gain=frame_gain,
                          gradient=gradient, target_gain=target_gain, blur_exposure=blur_exposure,
                          defocus=defocus, noise_std=noise_std)


@dataclass(frozen=True, eq=False)
class SyntheticSequence(Sequence):
    """A :class:`Sequence` whose frames are rendered on demand from a :class:`SyntheticScene`."""

    scene: SyntheticScene | None = None

    def read_frame(self, index: int) -> np.ndarray:
        if not 0 <= index < len(self):
            raise IndexError(f"frame {index} out of range for {self.name} ({len(self)} frames)")
        return self.scene.render(index)

    @property
    def visible_fraction(self) -> np.ndarray:
        return self.scene.visible_fraction


def generate_synthetic_sequence(seed: int, config: SyntheticConfig = SyntheticConfig(),
                                photos: PhotoLibrary | None = None) -> SyntheticSequence:
    """
    Generate a synthetic sequence fully determined by ``seed``, ``config`` and the photo library's files.

    The first frame always has a box (the tracker is initialised on it): a seed whose scene starts hidden is
    replaced by the next derived seed.
    """
    for attempt in range(100):
        derived = seed if attempt == 0 else int(np.random.default_rng([seed, attempt]).integers(2**62))
        scene = build_scene(derived, config, photos)
        if np.isfinite(scene.boxes[0]).all():
            return SyntheticSequence(name=f"synthetic-{seed}", frame_paths=(), boxes=scene.boxes,
                                     dataset="synthetic", scene=scene)
    raise RuntimeError(f"no synthetic scene with a visible first frame after 100 attempts (seed {seed})")
