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
Template/search material from single still photos, as trackers train on COCO.

A photo has no annotated object here, so one is chosen: a random box of random size and aspect ratio, preferring
textured regions (a box on a blank wall gives a template that matches everything). The search views are the same
photo seen through a slowly changing similarity transform (camera shift, zoom and roll) with brightness change and
occasional blur; the box follows the transform exactly (the bounding box of its transformed corners). The sampler's
crop jitter then adds the shift/scale jitter of the search region on top.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence as SequenceType

import cv2
import numpy as np

from viltrack_ros.data.sequences import InMemorySequence
from viltrack_ros.data.synthetic import _load_photo, texture_score


def random_object_box(rng: np.random.Generator, image: np.ndarray,
                      size_range: tuple[float, float] = (0.08, 0.5),
                      aspect_ratio_range: tuple[float, float] = (0.33, 3.0), candidates: int = 6) -> np.ndarray:
    """
    Draw a box ``(x, y, w, h)`` inside ``image``; of ``candidates`` draws the most textured wins.

    Its sqrt(area) is a log-uniform fraction ``size_range`` of the shorter side, its aspect (w/h) log-uniform in
    ``aspect_ratio_range``.
    """
    height, width = image.shape[:2]
    best_score, best_box = -1.0, None
    for _ in range(candidates):
        side = math.exp(rng.uniform(*np.log(size_range))) * min(height, width)
        aspect = math.exp(rng.uniform(*np.log(aspect_ratio_range)))
        w = min(max(side * math.sqrt(aspect), 4.0), width - 1.0)
        h = min(max(side / math.sqrt(aspect), 4.0), height - 1.0)
        x, y = rng.uniform(0, width - w), rng.uniform(0, height - h)
        patch = image[int(y):int(y + h) + 1, int(x):int(x + w) + 1]
        score = texture_score(np.ascontiguousarray(patch))
        if score > best_score:
            best_score, best_box = score, np.array([x, y, w, h])
    return best_box


def _transform_box(box: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    x, y, w, h = box
    corners = np.array([[x, y, 1], [x + w, y, 1], [x, y + h, 1], [x + w, y + h, 1]])
    points = corners @ matrix.T
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return np.array([x0, y0, x1 - x0, y1 - y0])


def _clip_box(box: np.ndarray, height: int, width: int) -> tuple[np.ndarray, float]:
    """Box clipped to the image and the fraction of its area that stayed inside."""
    x0, y0 = max(box[0], 0.0), max(box[1], 0.0)
    x1, y1 = min(box[0] + box[2], float(width)), min(box[1] + box[3], float(height))
    inside = max(x1 - x0, 0.0) * max(y1 - y0, 0.0)
    return np.array([x0, y0, max(x1 - x0, 0.0), max(y1 - y0, 0.0)]), inside / max(box[2] * box[3], 1e-9)


def make_static_clip(rng: np.random.Generator, image: np.ndarray, num_frames: int,
                     box: np.ndarray | None = None, max_shift: float = 0.08, max_zoom: float = 0.15,
                     max_roll_deg: float = 6.0, brightness: float = 0.25, blur_probability: float = 0.15,
                     min_inside_fraction: float = 0.5, name: str = "static") -> InMemorySequence:
    """
    Make a ``num_frames`` clip from one photo.

    Frame 0 is the photo itself, later frames drift smoothly towards a random similarity transform (shift up to
    ``max_shift`` of the frame, zoom up to ``max_zoom``, roll up to ``max_roll_deg``). Frames where less than
    ``min_inside_fraction`` of the object stays in view get NaN boxes.
    """
    height, width = image.shape[:2]
    box = random_object_box(rng, image) if box is None else np.asarray(box, dtype=np.float64)
    centre = (box[0] + box[2] / 2, box[1] + box[3] / 2)
    end_shift = rng.uniform(-max_shift, max_shift, 2) * (width, height)
    end_zoom = math.exp(rng.uniform(-max_zoom, max_zoom))
    end_roll = rng.uniform(-max_roll_deg, max_roll_deg)
    frames, boxes = [image], [box]
    for i in range(1, num_frames):
        progress = i / max(num_frames - 1, 1)
        # Rotate and zoom about the object so that it stays in view, then shift the whole view.
        matrix = cv2.getRotationMatrix2D(centre, end_roll * progress, end_zoom ** progress)
        matrix[:, 2] += end_shift * progress + rng.normal(0, 0.005, 2) * (width, height)
        frame = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REFLECT101).astype(np.float32)
        frame *= rng.uniform(1 - brightness, 1 + brightness)
        if rng.random() < blur_probability:
            frame = cv2.GaussianBlur(frame, (0, 0), rng.uniform(0.5, 2.0))
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
        clipped, inside = _clip_box(_transform_box(box, matrix), height, width)
        boxes.append(clipped if inside >= min_inside_fraction else np.full(4, np.nan))
    return InMemorySequence(name=name, frame_paths=(), boxes=np.stack(boxes), dataset="static",
                            frames=tuple(frames))


class StaticImageClips:
    """Random static clips from a list of photo files (decoded photos are cached per process)."""

    def __init__(self, image_paths: SequenceType[str | Path]):
        self.image_paths = [Path(p) for p in image_paths]
        if not self.image_paths:
            raise ValueError("StaticImageClips needs at least one image file")

    def sample(self, rng: np.random.Generator, num_frames: int) -> InMemorySequence:
        for _ in range(10):
            path = self.image_paths[int(rng.integers(len(self.image_paths)))]
            image = _load_photo(str(path))
            if image is not None:
                return make_static_clip(rng, image, num_frames, name=path.name)
        raise ValueError(f"none of 10 randomly chosen files could be read, e.g. {path}")
