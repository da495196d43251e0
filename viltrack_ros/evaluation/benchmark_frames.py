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
"""Real frames for speed benchmarks (``viltrack bench`` and the ROS node benchmark share them)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..data.sequences import load_sequence_folder
from ..data.splits import DEFAULT_SEQUENCES_ROOT

BENCH_SEQUENCE = "vot2015_bag"
OPENCV_VIDEO = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
OPENCV_VIDEO_BOX = (638.0, 238.0, 48.0, 84.0)   # the woman in black on the right of frame 0


def benchmark_frames(count: int, size: tuple[int, int] = (640, 480)) -> tuple[list[np.ndarray], tuple, str]:
    """
    ``count`` real RGB frames resized to ``size`` (w, h), the target box scaled alike, and their origin.

    From the shared sequence ``vot2015_bag`` when present, else Debian opencv-doc's ``vtest.avi``. A short source
    is played forward and back to reach ``count`` frames.
    """
    folder = DEFAULT_SEQUENCES_ROOT / BENCH_SEQUENCE
    if (folder / "groundtruth.txt").is_file():
        sequence = load_sequence_folder(folder)
        frames = [sequence.read_frame(i) for i in range(min(count, len(sequence)))]
        box, origin = tuple(sequence.boxes[0]), str(folder)
    elif OPENCV_VIDEO.exists():
        capture = cv2.VideoCapture(str(OPENCV_VIDEO))
        frames = []
        while len(frames) < count:
            ok, bgr = capture.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        capture.release()
        box, origin = OPENCV_VIDEO_BOX, str(OPENCV_VIDEO)
    else:
        raise FileNotFoundError(f"no real frames: neither {folder} nor {OPENCV_VIDEO} exists")
    if not frames:
        raise ValueError(f"no real frames: {origin} gave none")
    width, height = size
    sx, sy = width / frames[0].shape[1], height / frames[0].shape[0]
    frames = [cv2.resize(f, (width, height), interpolation=cv2.INTER_LINEAR) for f in frames]
    while len(frames) < count:
        frames += frames[::-1][: count - len(frames)]
    x, y, w, h = box
    return frames, (x * sx, y * sy, w * sx, h * sy), f"{origin} resized to {width}x{height}"
