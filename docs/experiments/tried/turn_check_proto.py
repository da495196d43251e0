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
r"""
Prototype: no search sent ahead right after the target turned (its newest motion against its smoothed velocity).

The search is sent ahead after missed frames or for a fast target (``MultiTracker._search_lead``); a target that
turns between updates (a bouncing ball, a swinging bag) is then searched for where it no longer goes. Here a target
whose newest motion makes a cosine below ``TURN_COS`` with its smoothed velocity is searched for around its last box.
Takes ``viltrack experiment --tune``'s arguments (``docs/experiments/missed_frames/README.md`` has the results):

    TURN_COS=0.5 python docs/experiments/tried/turn_check_proto.py --tune viltrack_ros/weights/viltrack_default.pt \
        --restarts 5 --threads 1 --frame-step 3 --out OUT

A prototype that patches the tracker at run time, not product code.
"""
import os
import sys

import numpy as np

import viltrack_ros.tracking.tracker as tracker_module

COS = float(os.environ.get("TURN_COS", "0.5"))
COUNTS = {"leads": 0, "turned": 0}
_advance = tracker_module.MultiTracker._advance
_lead = tracker_module.MultiTracker._search_lead


def advance(self, target, *args, **kwargs):
    before = target.velocity.copy()
    result = _advance(self, target, *args, **kwargs)
    after = target.velocity
    if not np.array_equal(before, after) and np.any(after) and np.linalg.norm(before) > 0.5:
        newest = (after - (1 - tracker_module.VELOCITY_SMOOTHING) * before) / tracker_module.VELOCITY_SMOOTHING
        cos = float(newest @ before) / (np.linalg.norm(newest) * np.linalg.norm(before) + 1e-9)
        target.turned = cos < COS
    elif not np.any(after):
        target.turned = False
    return result


def search_lead(self, target, frames_elapsed):
    lead = _lead(self, target, frames_elapsed)
    if lead > 0:
        COUNTS["leads"] += 1
        if getattr(target, "turned", False):
            COUNTS["turned"] += 1
            return self.config.motion_prediction * min(frames_elapsed, tracker_module.MAX_PREDICTED_FRAMES)
    return lead


tracker_module.MultiTracker._advance = advance
tracker_module.MultiTracker._search_lead = search_lead

if __name__ == "__main__":
    from viltrack_ros.training.experiment import main
    try:
        sys.exit(main(sys.argv[1:]))
    finally:
        print("turn check:", COUNTS, file=sys.stderr)
