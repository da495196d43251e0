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
Annotated image for people: each target's box, id, status and confidence drawn on the camera image.

Pure numpy/OpenCV (no ROS), so the CLI, the demo and the node draw the same picture.
"""
from __future__ import annotations

from typing import Iterable

import cv2
import numpy as np

from .tracker import TrackResult, TrackStatus

# RGB. Green: tracking; amber: lost (the box is the network's best guess, or the last confident box with
# hold_box_when_lost); grey: no estimate yet.
STATUS_COLOURS = {
    TrackStatus.TRACKING: (40, 220, 60),
    TrackStatus.LOST: (255, 160, 0),
    TrackStatus.INITIALIZING: (180, 180, 180),
}


def draw_tracks(rgb: np.ndarray, tracks: Iterable[tuple[int, TrackResult]]) -> np.ndarray:
    """Return a copy of ``rgb`` (uint8 ``(H, W, 3)``) with one labelled box per ``(target_id, result)``."""
    canvas = np.ascontiguousarray(rgb, dtype=np.uint8).copy()
    height, width = canvas.shape[:2]
    # Line and text sizes follow the image size so the label stays legible from 320x240 to 4K.
    thickness = max(1, round(min(height, width) / 240))
    font_scale = max(0.4, min(height, width) / 800)
    for target_id, result in tracks:
        x, y, w, h = result.box
        status = TrackStatus(result.status)
        colour = STATUS_COLOURS[status]
        top_left = (int(round(x)), int(round(y)))
        # A box of width w covers the pixel columns x .. x + w - 1, and cv2.rectangle draws both corners it is given.
        bottom_right = (max(top_left[0], int(round(x + w)) - 1), max(top_left[1], int(round(y + h)) - 1))
        cv2.rectangle(canvas, top_left, bottom_right, colour, thickness, cv2.LINE_8)
        label = f"#{target_id} {status.name.lower()} {result.confidence:.2f}"
        (text_w, text_h), baseline = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
        # Label above the box, or inside it when the box touches the top edge.
        label_y = top_left[1] - baseline - 2 if top_left[1] - text_h - baseline - 4 >= 0 else top_left[1] + text_h + 2
        label_x = min(max(top_left[0], 0), max(width - text_w - 2, 0))
        cv2.rectangle(canvas, (label_x, label_y - text_h - 2), (label_x + text_w + 2, label_y + baseline),
                      colour, cv2.FILLED)
        cv2.putText(canvas, label, (label_x + 1, label_y), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return canvas
