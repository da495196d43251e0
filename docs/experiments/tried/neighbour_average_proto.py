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
Prototype: read the box as the score-weighted mean of the boxes at the picked cell's 3x3 neighbourhood.

This is for a head whose cells reach their neighbours (``ModelConfig.offset_reach`` 1); the mean replaces the picked
cell's box alone.

Why (`../offset_reach/README.md`): such a head trains every cell around the true centre to give the whole box, so
near a peak several cells hold an estimate of the same box; their mean, weighted by how sure each cell is, should
be steadier than any one of them (CenterNet-style heads average nothing; detectors' weighted box fusion does).
The picked cell, the confidence and the size's damping are the shipped ones.

AVERAGE=0 runs the shipped decoding (the reference), AVERAGE=1 the mean.

    AVERAGE=1 python docs/experiments/tried/neighbour_average_proto.py \
        --tune outputs/offset_reach/b2_offset_reach_centre/model.pt --restarts 5 --threads 2 --out OUT

A prototype that patches the tracker at run time, not product code.
"""
import os
import sys

import numpy as np

import viltrack_ros.tracking.decode as decode
import viltrack_ros.tracking.tracker as tracker_module

AVERAGE = os.environ.get("AVERAGE", "1") == "1"
_select_boxes = decode.select_boxes   # the shipped decoding


def select_boxes_averaged(score, offset, size, window, window_influence, previous_wh, prior, ranking=None):
    """Make the shipped pick, then replace the picked cell's offset and size by the neighbourhood's weighted mean."""
    boxes, confidence, index = _select_boxes(score, offset, size, window, window_influence, previous_wh, prior,
                                             ranking=ranking)
    if not AVERAGE:
        return boxes, confidence, index
    score, offset, size = (np.array(a, dtype=np.float32) for a in (score, offset, size))
    previous_wh = np.asarray(previous_wh, dtype=np.float32)
    g = score.shape[-1]
    penalty = decode.size_penalty(size, previous_wh, prior.penalty_k)
    weight_map = score[:, 0] * penalty
    for b in range(len(index)):
        r, c = divmod(int(index[b]), g)
        r0, r1, c0, c1 = max(r - 1, 0), min(r + 2, g), max(c - 1, 0), min(c + 2, g)
        weight = weight_map[b, r0:r1, c0:c1]
        weight = weight / max(float(weight.sum()), 1e-9)
        rows, cols = np.mgrid[r0:r1, c0:c1]
        cx = float((weight * (cols + offset[b, 0, r0:r1, c0:c1])).sum())
        cy = float((weight * (rows + offset[b, 1, r0:r1, c0:c1])).sum())
        w = float((weight * size[b, 0, r0:r1, c0:c1]).sum())
        h = float((weight * size[b, 1, r0:r1, c0:c1]).sum())
        # Written back at the picked cell, so the shipped reading (damping, bounds) applies to the mean.
        offset[b, :, r, c] = (cx - c, cy - r)
        size[b, :, r, c] = (w, h)
    boxes, confidence = decode.boxes_at_cells(index, score, offset, size, penalty, previous_wh, prior)
    return boxes, confidence, index


tracker_module.select_boxes = select_boxes_averaged

if __name__ == "__main__":
    from viltrack_ros.training.experiment import main
    sys.exit(main(sys.argv[1:]))
