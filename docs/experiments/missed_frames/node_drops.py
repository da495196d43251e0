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
The tracker node fed faster than it can track: the development sequences streamed live, the node dropping frames.

For each development sequence, ``scripts/demo.sh`` streams its frames at ``--fps`` to the node (depth 1: the node
takes the newest image when it is free, DDS drops the rest) and records what it answers, once with the search always
around the last box (``tracker.missed_frames_prediction`` false, ``tracker.fast_motion_threshold`` 0: "off") and once
with the defaults ("on"), ``--repeats`` times each in turn (the frames a busy node drops differ from run to run).
Each run is scored on the frames the node answered (OTB success AUC, IoU against the truth of that frame); the table
also gives the share of frames answered and how many frames apart the answered ones were.

    python docs/experiments/missed_frames/node_drops.py --fps 90 --repeats 3 \
        --out docs/experiments/missed_frames/node_drops_90fps.md

Development sequences only: the held-out ones are never run here.
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from viltrack_ros.data.sequences import load_sequence_folders
from viltrack_ros.data.splits import DEFAULT_SEQUENCES_ROOT, load_data_splits
from viltrack_ros.evaluation.metrics import score_sequence

REPO_ROOT = Path(__file__).resolve().parents[3]
SEQUENCES = DEFAULT_SEQUENCES_ROOT


def run_node(sequence, fps: float, setting: bool, out: Path, domain_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Stream ``sequence`` to the node through the demo; return the answered frames' indices and boxes."""
    x, y, w, h = sequence.boxes[0]
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain_id), ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST")
    command = ["bash", str(REPO_ROOT / "scripts" / "demo.sh"), "--source", str(SEQUENCES / sequence.name),
               "--box", f"{x:.2f},{y:.2f},{w:.2f},{h:.2f}", "--fps", f"{fps:g}", "--max-frames", "0",
               "--out", str(out)]
    if not setting:
        command += ["--param", "tracker.missed_frames_prediction:=false",
                    "--param", "tracker.fast_motion_threshold:=0.0"]
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    frames, boxes = [], []
    with open(out / "tracked_objects.csv") as handle:
        for row in csv.DictReader(handle):
            if int(row["frame"]) > 0:
                frames.append(int(row["frame"]))
                boxes.append([float(row[k]) for k in ("x", "y", "width", "height")])
    return np.array(frames, dtype=int), np.array(boxes).reshape(-1, 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fps", type=float, default=90.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    sequences = load_sequence_folders(SEQUENCES, load_data_splits().names("dev"))
    rows, totals = [], {False: [], True: []}
    with tempfile.TemporaryDirectory() as scratch:
        for sequence in sequences:
            for repeat in range(args.repeats):
                for setting in (False, True):
                    frames, boxes = run_node(sequence, args.fps, setting, Path(scratch) / "run",
                                             domain_id=40 + repeat * 2 + setting)
                    truth = sequence.boxes
                    score = score_sequence(np.vstack([truth[:1], boxes]), np.vstack([truth[:1], truth[frames]]))
                    gaps = np.diff(np.concatenate([[0], frames]))
                    totals[setting].append(score.auc)
                    rows.append(f"| {sequence.name} | {repeat + 1} | {'on' if setting else 'off'} | {score.auc:.3f} | "
                                f"{len(frames)} / {len(sequence) - 1} | {np.mean(gaps):.2f} | {int(np.max(gaps))} |")
                    print(rows[-1], flush=True)
    lines = [f"The development sequences streamed to the node at {args.fps:g} fps (`node_drops.py --fps {args.fps:g} "
             f"--repeats {args.repeats}`), scored on the frames it answered:", "",
             "| sequence | run | search ahead | AUC (answered frames) | frames answered | mean frames "
             "apart | most frames apart |", "|---|---:|---|---:|---:|---:|---:|", *rows, "",
             f"Mean AUC over the {len(totals[False])} runs: off {np.mean(totals[False]):.3f}, on "
             f"{np.mean(totals[True]):.3f}.", ""]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines[-2:]))


if __name__ == "__main__":
    sys.exit(main())
