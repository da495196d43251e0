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
How often the tracker's chosen cell is not the cell that holds the true centre, and how good the box is then.

Runs the shipped weights (or the checkpoint given as the first argument) with the default settings over val and dev
(one start frame each) and sorts every scored frame by where the chosen cell lies: the true centre's cell ("same"),
one of its 8 neighbours ("off"), or further ("far"). With `peak_refinement_proto.py` imported first (REFINE=1), the
same for the refined pick.

    source scripts/env.sh && PYTHONPATH=$PWD:$PYTHONPATH python docs/experiments/tried/chosen_cell.py [WEIGHTS]
"""
import os
import sys

import numpy as np
import torch

import viltrack_ros.tracking.tracker as tracker_module
from viltrack_ros.data.precropped import default_train_root
from viltrack_ros.evaluation.metrics import box_iou
from viltrack_ros.tracking import ViLTracker
from viltrack_ros.training.experiment import development_sequences, validation_sequences

if os.environ.get("REFINE"):
    sys.path.insert(0, os.path.dirname(__file__))
    import peak_refinement_proto  # noqa: F401  (patches the decoding)

torch.set_num_threads(2)
captured = {}
_crop, _select = tracker_module.crop_and_resize, tracker_module.select_boxes


def _capturing_crop(*args, **kwargs):
    crop, transform = _crop(*args, **kwargs)
    captured.setdefault("transforms", []).append(transform)
    return crop, transform


def _capturing_select(*args, **kwargs):
    boxes, confidence, cells = _select(*args, **kwargs)
    captured["cells"] = cells
    return boxes, confidence, cells


tracker_module.crop_and_resize = _capturing_crop
tracker_module.select_boxes = _capturing_select

ious, errors = {}, {}
for sequence in list(validation_sequences(default_train_root())) + list(development_sequences()):
    tracker = ViLTracker.from_checkpoint(sys.argv[1] if len(sys.argv) > 1 else None)
    tracker.init(sequence.read_frame(0), sequence.boxes[0])
    grid = tracker._multi.model_config.search_grid
    for i in range(1, len(sequence)):
        captured.clear()
        result = tracker.update(sequence.read_frame(i))
        truth = sequence.boxes[i]
        if not np.all(np.isfinite(truth)) or truth[2] <= 0:
            continue
        transform = captured["transforms"][0]   # the search crop (the first crop of an update)
        tx, ty, tw, th = transform.image_to_crop_box(truth) / transform.output_size
        true_col, true_row = int((tx + tw / 2) * grid), int((ty + th / 2) * grid)
        if not (0 <= true_col < grid and 0 <= true_row < grid):
            continue
        row, col = divmod(int(np.asarray(captured["cells"]).reshape(-1)[0]), grid)
        distance = max(abs(row - true_row), abs(col - true_col))
        where = "same" if distance == 0 else ("off" if distance == 1 else "far")
        ious.setdefault(where, []).append(float(box_iou(np.array([result.box]), np.array([truth]))[0]))
        x, y, w, h = result.box
        centre_error = np.hypot(x + w / 2 - truth[0] - truth[2] / 2, y + h / 2 - truth[1] - truth[3] / 2)
        errors.setdefault(where, []).append((centre_error / np.sqrt(truth[2] * truth[3]),
                                             abs(np.log(w * h / (truth[2] * truth[3]))) / 2))
total = sum(len(v) for v in ious.values())
print("| chosen cell | frames | mean IoU | median centre error / sqrt(area) | median abs log size ratio |")
print("|---|---:|---:|---:|---:|")
for where in ("same", "off", "far"):
    e = np.array(errors[where])
    print(f"| {where} | {len(ious[where])} ({len(ious[where]) / total:.0%}) | {np.mean(ious[where]):.3f} | "
          f"{np.median(e[:, 0]):.3f} | {np.median(e[:, 1]):.3f} |")
