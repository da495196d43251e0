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
Square context crops around a box, and the mapping between crop and image coordinates.

Boxes are ``(x, y, w, h)`` in pixels with ``(x, y)`` the top-left corner. A crop of side
``context_factor * sqrt(w * h)`` centred on the box is resized to ``output_size`` pixels; parts of the crop
that fall outside the image are filled with the image's mean colour (as SiamFC/OSTrack do) so that a target
at the border is not confused with a black edge.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from ..data.value_scaling import sixteen_bit_to_uint8

MIN_BOX_SIZE = 1e-3


def validate_box(box, image_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """
    Return ``box`` as a float64 array ``(x, y, w, h)`` or raise ``ValueError`` naming the problem.

    With ``image_shape`` the box must also overlap the image.
    """
    try:
        arr = np.asarray(box, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"box must be 4 numbers (x, y, w, h), got {box!r}") from exc
    if arr.size != 4:
        raise ValueError(f"box must be 4 numbers (x, y, w, h), got {arr.size} values")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"box contains NaN or infinite values: {arr.tolist()}")
    x, y, w, h = arr
    if w <= 0 or h <= 0:
        raise ValueError(f"box has non-positive size: width={w:g}, height={h:g}")
    if image_shape is not None:
        img_h, img_w = image_shape[:2]
        if x >= img_w or y >= img_h or x + w <= 0 or y + h <= 0:
            raise ValueError(
                f"box {arr.tolist()} lies fully outside the {img_w}x{img_h} image")
    return arr


def clamp_box(box, image_shape: tuple[int, ...], min_size: float = 2.0) -> np.ndarray:
    """
    Clip ``box`` to the image, keeping at least ``min_size`` pixels per side inside it.

    On an image smaller than that, the minimum is the whole side.
    """
    img_h, img_w = image_shape[:2]
    min_w, min_h = min(min_size, float(img_w)), min(min_size, float(img_h))
    x, y, w, h = (float(v) for v in box)
    x1, y1 = min(max(x, 0.0), img_w - min_w), min(max(y, 0.0), img_h - min_h)
    x2, y2 = max(min(x + w, float(img_w)), x1 + min_w), max(min(y + h, float(img_h)), y1 + min_h)
    return np.array([x1, y1, x2 - x1, y2 - y1], dtype=np.float64)


def keep_centre_inside(box, image_shape: tuple[int, ...], min_size: float = 2.0) -> np.ndarray:
    """
    Move ``box``'s centre into the image, keeping its size (bounded by the image's and by ``min_size``).

    A tracker's own box: clipped to the visible part instead, a target leaving at the edge shrank it frame by frame
    to a sliver, whose search region was then too small ever to find anything again.
    """
    img_h, img_w = image_shape[:2]
    x, y, w, h = (float(v) for v in box)
    cx, cy = min(max(x + w / 2, 0.0), float(img_w)), min(max(y + h / 2, 0.0), float(img_h))
    w, h = min(max(w, min_size), float(img_w)), min(max(h, min_size), float(img_h))
    return np.array([cx - w / 2, cy - h / 2, w, h], dtype=np.float64)


@dataclass(frozen=True)
class CropTransform:
    """Affine map between image pixels and crop pixels: ``crop = (image - origin) * scale``."""

    origin: tuple[float, float]   # image coordinates of the crop's top-left corner
    scale: float                  # crop pixels per image pixel
    output_size: int

    def image_to_crop_box(self, box) -> np.ndarray:
        x, y, w, h = np.asarray(box, dtype=np.float64)
        return np.array([(x - self.origin[0]) * self.scale, (y - self.origin[1]) * self.scale,
                         w * self.scale, h * self.scale])

    def crop_to_image_box(self, box) -> np.ndarray:
        x, y, w, h = np.asarray(box, dtype=np.float64)
        return np.array([x / self.scale + self.origin[0], y / self.scale + self.origin[1],
                         w / self.scale, h / self.scale])


def as_rgb(image: np.ndarray) -> np.ndarray:
    """
    Return a contiguous ``uint8`` ``(H, W, 3)`` view/copy of an RGB, RGBA or grayscale image.

    ``uint8`` as is; ``uint16`` over its full range (0-65535 to 0-255, rounded: the node's default and cv_bridge's;
    a thermal or 12-bit camera's values need a range of their own first, ``data.value_scaling.ValueScaling``); floats
    in [0, 1] when their finite values all are, else in [0, 255]; NaN as black, inf as white, clipped.
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array, got {type(image).__name__}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):
        raise ValueError(f"image must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got shape {image.shape}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"image is empty: shape {image.shape}")
    if image.dtype != np.uint8:
        if image.dtype == np.uint16:
            image = sixteen_bit_to_uint8(image)
        elif np.issubdtype(image.dtype, np.floating):
            # The scale is read from the finite values only: one NaN or inf pixel must not turn a [0, 1] image black.
            finite_max = np.max(image, where=np.isfinite(image), initial=0)
            scale = 255.0 if finite_max <= 1.0 else 1.0
            image = np.clip(np.nan_to_num(image, nan=0.0, posinf=255.0 / scale, neginf=0.0) * scale, 0, 255)
            image = image.astype(np.uint8)
        else:
            raise ValueError(f"unsupported image dtype {image.dtype}")
    # OpenCV's conversions: numpy's repeat and strided copies took 2-3 ms for a 640x480 frame, these 0.05 ms.
    if image.ndim == 2:
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGBA2RGB)
    return np.ascontiguousarray(image)


class MeanColour:
    """An image's mean colour, computed on first use: once per frame however many targets' crops need it."""

    def __init__(self, image: np.ndarray):
        self._image = image
        self._value: tuple[float, float, float] | None = None

    def __call__(self) -> tuple[float, float, float]:
        if self._value is None:
            self._value = tuple(cv2.mean(self._image)[:3])
        return self._value


def crop_and_resize(image: np.ndarray, box, context_factor: float, output_size: int,
                    center=None, crop_side=None, mean_colour: MeanColour | None = None
                    ) -> tuple[np.ndarray, CropTransform]:
    """
    Cut a square region of side ``context_factor * sqrt(w*h)`` around ``box`` and resize it.

    ``center``/``crop_side`` override the region (used by training jitter). ``mean_colour``: the same image's
    ``MeanColour``, shared by several crops of one frame. Returns the ``uint8`` crop ``(output_size, output_size, 3)``
    and the transform that maps boxes between the two frames.
    """
    x, y, w, h = (float(v) for v in box)
    if center is None:
        center = (x + 0.5 * w, y + 0.5 * h)
    if crop_side is None:
        crop_side = context_factor * math.sqrt(max(w * h, MIN_BOX_SIZE))
    crop_side = max(float(crop_side), 1.0)
    scale = output_size / crop_side
    origin = (center[0] - 0.5 * crop_side, center[1] - 0.5 * crop_side)
    # One affine warp does crop, pad and resize together: cheaper than pad-then-resize on large frames.
    matrix = np.array([[scale, 0.0, -origin[0] * scale], [0.0, scale, -origin[1] * scale]], dtype=np.float64)
    # The fill colour matters only where the region leaves the image. Inside it (bilinear reads reach one pixel
    # past a sample, hence the margin) the border is never read, and the mean over the whole image (0.8 ms on a
    # 1920x1080 frame, for every target) is not computed at all.
    img_h, img_w = image.shape[:2]
    inside = (origin[0] >= 0 and origin[1] >= 0
              and origin[0] + crop_side <= img_w - 2 and origin[1] + crop_side <= img_h - 2)
    fill = (0.0, 0.0, 0.0) if inside else (mean_colour or MeanColour(image))()
    crop = cv2.warpAffine(image, matrix, (output_size, output_size), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
    return crop, CropTransform(origin=origin, scale=scale, output_size=output_size)
