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
Measure whether the network measures a target's size or echoes the search crop's scale.

On frames of the development sequences (every ~12th frame from the 6th), the tracker is started on the sequence's
first frame and then given, as its previous box, the true box scaled by s (0.8 ... 1.25, same centre) before one
update. The slope of log(new size / true size) against log(s) is the size elasticity: 0 for a network that
measures the target whatever the crop's scale, 1 for one that only follows its own last box (a random walk of the
size). The tracker runs with the size logic out of the way (no calibration, classifier, size penalty or per-frame
bound, damping 1) so that the network's own answer is read.

    source scripts/env.sh && python docs/experiments/scale_jitter/elasticity.py [WEIGHTS ...]

Held-out sequences: never.
"""
import argparse
import copy

import numpy as np
import torch

from viltrack_ros.data.sequences import load_sequence_folders
from viltrack_ros.data.splits import DEFAULT_SEQUENCES_ROOT, load_data_splits
from viltrack_ros.tracking import TrackerConfig, ViLTracker

SCALES = np.array([0.8, 0.9, 1.0, 1.12, 1.25])
NETWORK_ONLY = {"size_calibration": 0.0, "classifier_weight": 0.0, "max_scale_step": 4.0, "scale_penalty": 0.0,
                "size_damping": 1.0}


def elasticities(weights, sequences, threads: int) -> dict[str, list[float]]:
    """Per sequence, the elasticity at each sampled frame."""
    found = {}
    for sequence in sequences:
        tracker = ViLTracker.from_checkpoint(weights, config=TrackerConfig.from_dict(NETWORK_ONLY), threads=threads)
        tracker.init(sequence.read_frame(0), tuple(sequence.boxes[0]))
        started = copy.deepcopy(tracker._multi._targets)   # the state after init: every probe starts from it
        slopes = []
        for index in range(5, len(sequence), max(1, len(sequence) // 12)):
            truth = sequence.boxes[index]
            if not np.all(np.isfinite(truth)):
                continue
            frame = sequence.read_frame(index)
            log_sizes = []
            for scale in SCALES:
                tracker._multi._targets = copy.deepcopy(started)
                cx, cy = truth[0] + truth[2] / 2, truth[1] + truth[3] / 2
                w, h = scale * truth[2], scale * truth[3]
                tracker._multi._targets[0].box = np.array([cx - w / 2, cy - h / 2, w, h])
                box = tracker.update(frame)[0]
                log_sizes.append(np.log(np.sqrt(box[2] * box[3] / (truth[2] * truth[3]))))
            slopes.append(float(np.polyfit(np.log(SCALES), log_sizes, 1)[0]))
        found[sequence.name] = slopes
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", nargs="*", default=[None], help="checkpoints (default: the shipped weights)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sequences = load_sequence_folders(DEFAULT_SEQUENCES_ROOT, load_data_splits().names("dev"))
    print("| weights | " + " | ".join(s.name for s in sequences) + " | all (median) | all (mean) |")
    print("|---|" + "---:|" * (len(sequences) + 2))
    for weights in args.weights:
        found = elasticities(weights, sequences, args.threads)
        every = [e for slopes in found.values() for e in slopes]
        print(f"| {weights or 'shipped'} | " + " | ".join(f"{np.median(v):.2f}" for v in found.values())
              + f" | {np.median(every):.2f} | {np.mean(every):.2f} |", flush=True)


if __name__ == "__main__":
    main()
