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
Diagnosis: how much of each tracker's success AUC is lost to the box's size, how much to its centre.

Every tracker's boxes on val (canvas replay) and dev, from 5 start frames, are scored three ways: as they are; with
the true size put around the tracker's own centre (what a perfect size estimate would add, the track unchanged); and
with the tracker's own size around the true centre, on the frames whose centre is within 20 px (the size's own
quality where the tracker is on target). Held-out sequences: never.

    python docs/experiments/size_oracle/size_oracle.py [--weights W] [--restarts 5] [--out DIR]
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch

from viltrack_ros.data.sequences import restarted_sequences
from viltrack_ros.evaluation.metrics import box_iou, centre_error, score_sequence, scored_frames
from viltrack_ros.evaluation.runner import evaluate
from viltrack_ros.evaluation.trackers import ViLTrackerAdapter, peer_trackers
from viltrack_ros.data.precropped import default_train_root
from viltrack_ros.training.experiment import development_sequences, validation_sequences


def oracle_scores(boxes: np.ndarray, truth: np.ndarray) -> dict:
    """Return the size diagnosis of one run (its plain AUC is the evaluation's own)."""
    centre = boxes[:, :2] + boxes[:, 2:] / 2
    true_centre = truth[:, :2] + truth[:, 2:] / 2
    true_size = np.column_stack([centre - truth[:, 2:] / 2, truth[:, 2:]])    # NaN where the tracker gave no box
    own_size_true_centre = np.column_stack([true_centre - boxes[:, 2:] / 2, boxes[:, 2:]])
    keep = scored_frames(truth)
    near = keep & (centre_error(boxes, truth) <= 20)     # inf (no box) and NaN (no truth) are not near
    size_ratio = np.sqrt(boxes[near, 2] * boxes[near, 3] / (truth[near, 2] * truth[near, 3]))
    return {"auc_true_size": score_sequence(true_size, truth).auc,
            "iou_own_size_true_centre_near": float(np.mean(box_iou(own_size_true_centre[near], truth[near])))
            if near.any() else float("nan"),
            "near_share": float(near[keep].mean()),
            "log_size_ratio_abs_near": float(np.mean(np.abs(np.log(size_ratio)))) if near.any() else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("outputs/size_oracle"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sets = {"val": restarted_sequences(validation_sequences(default_train_root()), args.restarts),
            "dev": restarted_sequences(development_sequences(), args.restarts)}
    trackers = [ViLTrackerAdapter.from_checkpoint(args.weights)]
    trackers += peer_trackers("CSRT,NanoTrack")[0]
    result = {}
    for set_name, sequences in sets.items():
        report = evaluate(trackers, sequences, progress=True)
        for name in report.trackers:
            rows = [{"auc": report.scores[(name, s)].auc,
                     **oracle_scores(report.runs[(name, s)].boxes, seq.boxes[:len(report.runs[(name, s)].boxes)])}
                    for s, seq in zip(report.sequences, sequences)]
            result.setdefault(name, {})[set_name] = {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}
            print(set_name, name, json.dumps({k: round(v, 3) for k, v in result[name][set_name].items()}), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "size_oracle.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
