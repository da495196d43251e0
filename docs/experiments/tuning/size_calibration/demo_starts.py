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
The README demo clip tracked from 11 start frames up to the target's exit at frame 148, for one tracker setting.

The start frames are 0, 10, ..., 100 (the key-frame boxes of docs/experiments/demo_truth/keyframes.csv); it prints the
share of frames on target per start and their mean. One clip; a check, not a basis for choosing.

    source scripts/env.sh
    PYTHONPATH=$PWD:$PYTHONPATH python docs/experiments/tuning/size_calibration/demo_starts.py 0.7
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "demo_truth"))
from demo_truth import on_target, read_truth, read_video  # noqa: E402

from viltrack_ros.tracking import MultiTracker, TrackerConfig  # noqa: E402

EXIT_FRAME = 148


def main(strength: float) -> None:
    frames = read_video(EXIT_FRAME)
    truth = read_truth(len(frames))
    tracker = MultiTracker.from_checkpoint(None, config=TrackerConfig(size_calibration=strength))
    shares = []
    for start in range(0, 101, 10):
        tracker.init(0, frames[start], truth[start])
        boxes = [truth[start]] + [np.array(tracker.update(frame)[0].box) for frame in frames[start + 1:]]
        shares.append(on_target(np.array(boxes), truth[start:]).mean())
    print(f"size_calibration {strength}: on target per start " + " ".join(f"{s:.2f}" for s in shares)
          + f"; mean {np.mean(shares):.3f}")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else TrackerConfig().size_calibration)
