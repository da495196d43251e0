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
Check whether the size calibration costs tracking when the given box is drawn loose or tight.

Every val (canvas replay) and dev sequence (held-out: never) is started from its ground-truth box scaled about its
centre by FACTOR, and scored
against the ground truth scaled the same way in every frame (the box style the user asked for): success AUC, and
precision @20 px (the centre, which the scaling does not move). One start frame per sequence.

    python docs/experiments/tuning/size_calibration/box_style.py 1.3 0 0.7    # FACTOR, then size_calibration values
"""
from __future__ import annotations

import sys

import numpy as np
import torch

from viltrack_ros.data.precropped import default_train_root
from viltrack_ros.evaluation.metrics import score_sequence
from viltrack_ros.evaluation.runner import run_tracker
from viltrack_ros.evaluation.trackers import ViLTrackerAdapter
from viltrack_ros.training.experiment import development_sequences, validation_sequences


def scaled(boxes: np.ndarray, factor: float) -> np.ndarray:
    x, y, w, h = boxes.T
    return np.stack([x + w * (1 - factor) / 2, y + h * (1 - factor) / 2, w * factor, h * factor], axis=1)


def main(factor: float, strengths: list[float]) -> None:
    torch.set_num_threads(2)
    sequences = validation_sequences(default_train_root()) + development_sequences()
    for strength in strengths:
        tracker = ViLTrackerAdapter.from_checkpoint(None, settings={"size_calibration": strength})
        scores = []
        for sequence in sequences:
            truth = scaled(sequence.boxes, factor)
            frames = [sequence.read_frame(i) for i in range(len(sequence))]
            run = run_tracker(tracker, frames, truth, sequence.name)
            scores.append(score_sequence(run.boxes, truth))
        print(f"box x{factor}, size_calibration {strength}: AUC {np.mean([s.auc for s in scores]):.3f}, "
              f"P@20 {np.mean([s.precision for s in scores]):.3f}  ("
              + " ".join(f"{seq.name[:10]} {s.auc:.2f}" for seq, s in zip(sequences, scores)) + ")", flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]), [float(v) for v in sys.argv[2:]] or [0.0, 0.7])
