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
Tried and not kept: the classifier's weight raised where the network is unsure.

W_MODE=step: 0.6 instead of 0.4 when the network's best score is below 0.5; linear: 0.4 + 0.4 * (1 - best score), at
most 0.8.

    W_MODE=step python docs/experiments/tried/adaptive_classifier_weight_proto.py \
        --tune viltrack_ros/weights/viltrack_default.pt --grid classifier_weight=0.4 --restarts 5 --threads 1 --out OUT

Wraps MultiTracker._ranking at run time (a prototype). Results: adaptive_classifier_weight.md.
"""
import os
import sys

import viltrack_ros.tracking.tracker as T
MODE = os.environ.get("W_MODE", "step")
tracker_ranking = T.MultiTracker._ranking


def _ranking(self, targets, scores, appearance, finite):
    """
    Re-weight the tracker's own mix at classifier_weight w0 per target.

    With r0 = (1-w0) s + w0 c, s + (w / w0) (r0 - s) = (1-w) s + w c (the table was made with a copy of the mixing
    loop; the same mix up to float rounding).
    """
    ranking = tracker_ranking(self, targets, scores, appearance, finite)
    if ranking is None:
        return None
    weight = self.config.classifier_weight
    for index in range(len(targets)):
        peak = float(scores[index, 0].max())
        w = (0.6 if peak < 0.5 else weight) if MODE == "step" else min(0.8, weight + 0.4 * (1 - peak))
        ranking[index, 0] = scores[index, 0] + (w / weight) * (ranking[index, 0] - scores[index, 0])
    return ranking


T.MultiTracker._ranking = _ranking
if os.environ.get("RUN_DEMO"):
    sys.path.insert(0, "docs/experiments/demo_truth")
    import demo_truth
    demo_truth.main()
    sys.exit(0)
from viltrack_ros.training.experiment import main
sys.exit(main(sys.argv[1:]))
