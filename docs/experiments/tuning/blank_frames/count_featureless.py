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
Score tracker settings on val and dev, counting the search crops the blank-frame rule held.

Takes ``viltrack experiment --tune``'s arguments; the rule is ``tracking.tracker.is_featureless``. Where it never
fires the scores are the same as without it, by construction.

    python docs/experiments/tuning/blank_frames/count_featureless.py --tune WEIGHTS --threads 1 --out OUT
"""
import sys

from viltrack_ros.tracking import tracker as tracker_module
from viltrack_ros.training import experiment

counts = {"held": 0, "crops": 0}
_is_featureless = tracker_module.is_featureless


def counting_is_featureless(crop) -> bool:
    held = _is_featureless(crop)
    counts["crops"] += 1
    counts["held"] += held
    return held


if __name__ == "__main__":
    tracker_module.is_featureless = counting_is_featureless
    try:
        experiment.main(sys.argv[1:])
    finally:
        print(f"featureless search crops: {counts['held']} of {counts['crops']}", flush=True)
