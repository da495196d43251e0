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
How often the frames-elapsed count from stamps alone (an RMW without sequence numbers) is right.

A 30 Hz camera whose stamps jitter (each stamp off by up to +-jitter of a frame period, uniformly), and a node that
takes every k-th image, k drawn per update from a drop pattern. ``FramesElapsed`` with no sequence numbers and no
stated rate learns the period from the stamps; the table says how many of its counts equal the true step, and how
many are too many or too few; then the same with the camera's rate stated (``camera_frame_rate``).
Usage: ``python docs/experiments/missed_frames/stamp_counts.py [--updates 3000]``.
"""
from __future__ import annotations

import argparse

import numpy as np

from viltrack_ros.ros.frames_elapsed import FramesElapsed

PERIOD_NS = 1e9 / 30
PATTERNS = {
    "every frame": lambda rng: 1,
    "steps of 1-2": lambda rng: int(rng.integers(1, 3)),
    "steps of 1-3": lambda rng: int(rng.integers(1, 4)),
    "every 2nd, 1 in 10 at once": lambda rng: 1 if rng.random() < 0.1 else 2,
    "every 2nd": lambda rng: 2,
    "every 3rd": lambda rng: 3,
}
JITTERS = (0.0, 0.1, 0.2, 0.3, 0.4)


def score(pattern, jitter: float, updates: int, seed: int,
          camera_frame_rate: float = 0.0) -> tuple[float, float, float]:
    """Return the shares of counts that are right, too many and too few (the first update has nothing to count)."""
    rng = np.random.default_rng(seed)
    frames = FramesElapsed(camera_frame_rate)
    frame = 0
    right = over = under = 0
    frames.since_last(b"camera", None, int(1e12))
    for _ in range(updates):
        step = pattern(rng)
        frame += step
        stamp = int(1e12 + frame * PERIOD_NS + rng.uniform(-jitter, jitter) * PERIOD_NS)
        counted = frames.since_last(b"camera", None, stamp)
        right += counted == step
        over += counted > step
        under += counted < step
    return right / updates, over / updates, under / updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for camera_frame_rate, title in ((0.0, "the period learnt from the stamps"), (30.0, "camera_frame_rate 30 stated")):
        print(f"\n{title}: counts right (too many, too few)\n")
        print("| node takes | " + " | ".join(f"jitter +-{j:.0%}" for j in JITTERS) + " |")
        print("|---|" + "---:|" * len(JITTERS))
        for name, pattern in PATTERNS.items():
            cells = []
            for jitter in JITTERS:
                right, over, under = score(pattern, jitter, args.updates, args.seed, camera_frame_rate)
                cells.append(f"{right:.0%} ({over:.0%}, {under:.0%})")
            print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
