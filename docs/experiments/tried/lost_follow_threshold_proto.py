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
Prototype: while LOST, move the box only to peaks whose confidence reaches FOLLOW (an environment variable).

Takes ``viltrack experiment --tune``'s arguments and prints how many LOST frames kept their box.

    FOLLOW=0.1 python docs/experiments/tried/lost_follow_threshold_proto.py --tune WEIGHTS --threads 1 --restarts 5
"""
import os
import sys

import numpy as np

from viltrack_ros.tracking import tracker as tracker_module
from viltrack_ros.tracking.tracker import TrackStatus
from viltrack_ros.training import experiment

FOLLOW = float(os.environ["FOLLOW"])
original = tracker_module.MultiTracker._advance
held = {"n": 0, "lost": 0}


def advance(self, target, image, predicted_box, confidence, network_score, nothing_seen=False, *rest):
    if target.status == TrackStatus.LOST and not nothing_seen and confidence < self.config.recover_threshold:
        held["lost"] += 1
        if confidence < FOLLOW:
            held["n"] += 1
            predicted_box = np.array(target.box, dtype=np.float64)
    return original(self, target, image, predicted_box, confidence, network_score, nothing_seen, *rest)


tracker_module.MultiTracker._advance = advance
try:
    experiment.main(sys.argv[1:])
finally:
    print(f"FOLLOW={FOLLOW}: held {held['n']} of {held['lost']} LOST frames", flush=True)
