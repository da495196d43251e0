"""Drawing of tracking results on images (the CLI's annotated video and the ROS overlay share it)."""
from __future__ import annotations

import cv2
import numpy as np

from .tracker import TrackStatus

# Colours in RGB: green while tracking, red when lost, yellow on the init frame.
STATUS_COLOURS = {TrackStatus.TRACKING: (40, 220, 40), TrackStatus.LOST: (230, 40, 40),
                  TrackStatus.INITIALIZING: (240, 200, 20)}


def draw_track(image_rgb: np.ndarray, box, confidence: float, status: TrackStatus, label: str = "") -> np.ndarray:
    """Draw ``box`` (x, y, w, h), confidence and status on ``image_rgb`` in place; returns the image."""
    status = TrackStatus(status)
    colour = STATUS_COLOURS[status]
    x, y, w, h = (float(v) for v in box)
    thickness = max(1, round(min(image_rgb.shape[:2]) / 240))
    p1 = (int(round(x)), int(round(y)))
    p2 = (int(round(x + w)), int(round(y + h)))
    cv2.rectangle(image_rgb, p1, p2, colour, thickness, cv2.LINE_AA)
    text = f"{label + ' ' if label else ''}{status.name} {confidence:.2f}"
    scale = 0.4 * thickness
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    ty = p1[1] - 4 if p1[1] - th - 6 >= 0 else min(p2[1] + th + 4, image_rgb.shape[0] - 2)
    cv2.rectangle(image_rgb, (p1[0], ty - th - 2), (p1[0] + tw + 2, ty + base), colour, -1)
    cv2.putText(image_rgb, text, (p1[0] + 1, ty), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return image_rgb
