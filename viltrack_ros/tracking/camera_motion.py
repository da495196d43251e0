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
The camera's own motion between two frames, as one similarity transform of the image.

A tracker searches where the target was. On a moving robot, a panning or shaking camera moves every object in the
image, the target included, by as much as the camera turned: a jolt of 30 px between two frames puts a small target
near the edge of its search region, where the motion prior weighs it down. Knowing how the scene moved, the tracker
can move its last box with it first and search where the target would be had it stood still (camera motion
compensation, as BoT-SORT and other trackers on moving platforms do).

The estimate: corners on a downscaled grey frame outside the tracked boxes (their own motion is what the tracker
measures, not the camera's), followed into the next frame by pyramidal Lucas-Kanade optical flow, and a rotation,
uniform scale and translation fitted to them with RANSAC. Too few corners or too few inliers (a blank, blurred or
wholly new view) give no estimate: then the tracker searches where it would have without it.

Knows images and boxes, not networks or ROS.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .crop import as_rgb

IDENTITY = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


@dataclass(frozen=True)
class CameraMotionSettings:
    """How the estimate is made; the defaults suit 320-1920 px cameras at their usual frame rates."""

    max_side: int = 320             # the frames are downscaled to this longer side (the estimate's cost is fixed)
    max_corners: int = 200
    min_inliers: int = 12           # fewer points agreeing on one motion is no estimate
    min_inlier_share: float = 0.5   # most of the followed corners must agree: else the scene moved, not the camera
    ransac_threshold: float = 1.0   # pixels of the downscaled frame
    box_margin: float = 0.25        # tracked boxes are left out with this much of their size around them
    # Below these a camera is taken as still: a fit over noise is never exactly the identity, and a still camera's
    # tracks should not move by a few hundredths of a pixel every frame.
    min_shift: float = 0.5          # pixels of the full frame
    min_scale_change: float = 0.002
    min_rotation: float = 0.002     # radians


class CameraMotion:
    """
    Follows the camera's motion from frame to frame (one per camera; it keeps the last frame).

    ``update(image, boxes)`` returns the ``2x3`` matrix that maps points of the previous frame given to it onto
    ``image`` (exactly the identity for a camera that kept still), or ``None`` for the first frame, after a change of
    image size, or when no estimate could be made; it keeps ``image`` for the next call. ``boxes`` are the tracked
    boxes ``(x, y, w, h)`` in the previous frame: their insides are not taken as the scene. Images as the tracker takes
    them (``crop.as_rgb``: grey, RGB or RGBA; 8-bit, 16-bit or float).
    """

    def __init__(self, settings: CameraMotionSettings | None = None):
        self.settings = settings or CameraMotionSettings()
        self._previous: np.ndarray | None = None     # the last frame, grey and downscaled
        self.last_inliers = 0                       # how many corners agreed on the last estimate (0: none made)

    def reset(self) -> None:
        self._previous = None
        self.last_inliers = 0

    def remember(self, image: np.ndarray) -> None:
        """Keep ``image`` as the previous frame without estimating anything (a track's first frame)."""
        self._previous, _ = self._small_grey(image)
        self.last_inliers = 0

    def moves(self, motion: np.ndarray, image_shape: tuple[int, ...]) -> bool:
        """
        Say whether ``motion`` moves an image of ``image_shape`` by more than noise would.

        That is: its centre by ``min_shift`` pixels or more, or a scale or rotation past their bounds. Below, a fit
        over a still scene's noise, which is never exactly the identity.
        """
        s = self.settings
        scale = float(np.hypot(motion[0, 0], motion[1, 0]))
        rotation = float(np.arctan2(motion[1, 0], motion[0, 0]))
        return (float(np.hypot(*centre_shift(motion, image_shape))) >= s.min_shift
                or abs(scale - 1.0) >= s.min_scale_change or abs(rotation) >= s.min_rotation)

    def update(self, image: np.ndarray, boxes=()) -> np.ndarray | None:
        """Return the motion from the previous frame to ``image`` (``2x3``, image pixels) or None; keep ``image``."""
        current, scale = self._small_grey(image)
        previous = self._previous
        self._previous = current
        self.last_inliers = 0
        if previous is None or previous.shape != current.shape:
            return None
        small = self._estimate(previous, current, [np.asarray(b, dtype=np.float64) * scale for b in boxes])
        if small is None:
            return None
        motion = small.copy()
        motion[:, 2] /= scale     # the linear part is the same at any scale; the shift is in downscaled pixels
        return motion if self.moves(motion, image.shape) else IDENTITY.copy()

    def _small_grey(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """Return ``image`` as 8-bit grey, downscaled to ``max_side``, and the scale (downscaled per image pixel)."""
        # The tracker's own reading of the image (a 16-bit frame over its whole range, as the network sees it), not
        # each frame stretched to its own range: optical flow needs a point to keep its brightness between frames.
        grey = cv2.cvtColor(as_rgb(image), cv2.COLOR_RGB2GRAY)
        height, width = grey.shape
        scale = min(1.0, self.settings.max_side / max(height, width))
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
            scale = size[0] / width
        return grey, scale

    def _estimate(self, previous: np.ndarray, current: np.ndarray, boxes: list[np.ndarray]) -> np.ndarray | None:
        s = self.settings
        mask = np.full(previous.shape, 255, dtype=np.uint8)
        for x, y, w, h in boxes:
            mx, my = s.box_margin * w, s.box_margin * h
            x0, y0 = max(0, int(np.floor(x - mx))), max(0, int(np.floor(y - my)))
            x1, y1 = int(np.ceil(x + w + mx)), int(np.ceil(y + h + my))
            mask[y0:max(y0, y1), x0:max(x0, x1)] = 0
        corners = cv2.goodFeaturesToTrack(previous, maxCorners=s.max_corners, qualityLevel=0.01, minDistance=6,
                                          mask=mask, blockSize=3)
        if corners is None or len(corners) < s.min_inliers:
            return None
        followed, found, _ = cv2.calcOpticalFlowPyrLK(previous, current, corners, None, winSize=(15, 15),
                                                      maxLevel=3)
        found = found.reshape(-1).astype(bool)
        if found.sum() < s.min_inliers:
            return None
        motion, inliers = cv2.estimateAffinePartial2D(corners[found], followed[found], method=cv2.RANSAC,
                                                      ransacReprojThreshold=s.ransac_threshold)
        if motion is None or inliers is None:
            return None
        agreeing = int(inliers.sum())
        if agreeing < s.min_inliers or agreeing < s.min_inlier_share * found.sum():
            return None
        self.last_inliers = agreeing
        return motion


def _image_centre(image_shape: tuple[int, ...]) -> np.ndarray:
    return np.array([image_shape[1], image_shape[0]], dtype=np.float64) / 2


def centre_shift(motion: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """Return how far ``motion`` (``2x3``) moves the centre of an image of ``image_shape``: ``(dx, dy)`` pixels."""
    centre = _image_centre(image_shape)
    return motion[:, :2] @ centre + motion[:, 2] - centre


def with_centre_shift(motion: np.ndarray, image_shape: tuple[int, ...], shift: np.ndarray) -> np.ndarray:
    """Return ``motion`` with its rotation and scale, but moving the image's centre by ``shift`` instead."""
    centre = _image_centre(image_shape)
    moved = motion.copy()
    moved[:, 2] = centre + shift - motion[:, :2] @ centre
    return moved


def move_box(box, motion: np.ndarray) -> np.ndarray:
    """
    Return the box ``(x, y, w, h)`` carried by ``motion`` (``2x3``): its centre mapped, its size scaled.

    A rotation moves the centre; the box stays upright, as every box here is. The identity returns ``box`` itself,
    unchanged to the last bit.
    """
    if np.array_equal(motion, IDENTITY):
        return box
    x, y, w, h = np.asarray(box, dtype=np.float64)
    centre = motion[:, :2] @ np.array([x + w / 2, y + h / 2]) + motion[:, 2]
    scale = float(np.hypot(motion[0, 0], motion[1, 0]))
    return np.array([centre[0] - scale * w / 2, centre[1] - scale * h / 2, scale * w, scale * h])
