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
Prototype: re-pick within the picked cell's 3x3 neighbourhood by the ranking without the window.

The cell was picked as shipped, after the Hann window (and the size penalty).

Why (`peak_refinement.md`): with the shipped weights on val and dev, the picked cell is a neighbour of the cell that
holds the true centre in 49% of the frames, and those frames' boxes are worse (mean IoU 0.590 against 0.686): the
head learnt its offset and size at the true centre's cell only, and its offsets cannot leave their own cell. The
window's job is to keep far look-alikes out, not to choose between two neighbouring cells of one peak, where it
pulls the pick towards the crop's centre, the previous position.

REFINE=0 runs the shipped decoding (the reference), REFINE=1 the refinement; REFINE_BY=rank|raw picks the
neighbour by the ranking (network score mixed with the classifier) or by the network's score alone.

    REFINE=1 python docs/experiments/tried/peak_refinement_proto.py \
        --tune viltrack_ros/weights/viltrack_default.pt --restarts 5 --threads 2 --out OUT

A prototype that patches the tracker at run time, not product code.
"""
import os
import sys

import numpy as np

import viltrack_ros.tracking.decode as decode
import viltrack_ros.tracking.tracker as tracker_module

REFINE = os.environ.get("REFINE", "1") == "1"
REFINE_BY = os.environ.get("REFINE_BY", "rank")
_select_boxes = decode.select_boxes   # the shipped decoding


def select_boxes_refined(score, offset, size, window, window_influence, previous_wh, prior, ranking=None):
    """Make the shipped pick, re-pick within the picked cell's 3x3 neighbourhood, then read the box there."""
    boxes, confidence, index = _select_boxes(score, offset, size, window, window_influence, previous_wh, prior,
                                             ranking=ranking)
    if not REFINE:
        return boxes, confidence, index
    score, offset, size = (np.asarray(a, dtype=np.float32) for a in (score, offset, size))
    previous_wh = np.asarray(previous_wh, dtype=np.float32)
    g = score.shape[-1]
    penalty = decode.size_penalty(size, previous_wh, prior.penalty_k)
    rank = score[:, 0] if ranking is None or REFINE_BY == "raw" else np.asarray(ranking, dtype=np.float32)[:, 0]
    local = rank * penalty
    index = index.copy()
    for b in range(len(index)):
        r, c = divmod(int(index[b]), g)
        r0, r1, c0, c1 = max(r - 1, 0), min(r + 2, g), max(c - 1, 0), min(c + 2, g)
        patch = local[b, r0:r1, c0:c1]
        dr, dc = divmod(int(patch.argmax()), patch.shape[1])
        index[b] = (r0 + dr) * g + (c0 + dc)
    boxes, confidence = decode.boxes_at_cells(index, score, offset, size, penalty, previous_wh, prior)
    return boxes, confidence, index


tracker_module.select_boxes = select_boxes_refined

if __name__ == "__main__":
    from viltrack_ros.training.experiment import main
    sys.exit(main(sys.argv[1:]))
