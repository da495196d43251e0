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
How long trackers stay on the README demo's target, against hand-read key frames (keyframes.csv).

    source scripts/env.sh   # the demo module it reads the input from needs the built interfaces
    python docs/experiments/demo_truth/demo_truth.py              # ours (default weights), NanoTrack, CSRT, floor
    python docs/experiments/demo_truth/demo_truth.py --settings window_influence=0.3 --weights W.pt
    python docs/experiments/demo_truth/demo_truth.py --demo-csv outputs/demo/tracked_objects.csv   # the node's run
    python docs/experiments/demo_truth/demo_truth.py --sheets OUT.png      # the key frames drawn, to check them

A frame counts as on target when the box centre is within 20 px of the interpolated true centre (OTB's precision
threshold; the person is about 30 px wide). After the person leaves (frame 148) nothing can be on target; the table
gives how many of those frames our tracker reported LOST instead.
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np
import yaml

from viltrack_ros.evaluation.trackers import SiameseStemBaseline, ViLTrackerAdapter, peer_trackers
from viltrack_ros.ros.demo import DEFAULT_BOX, default_source

HERE = Path(__file__).resolve().parent
CENTRE_THRESHOLD_PX = 20.0
LASTING_MISS = 10


def read_truth(frames: int) -> np.ndarray:
    """``(frames, 4)`` boxes interpolated between the key frames; NaN where the target is absent."""
    rows = [line for line in (HERE / "keyframes.csv").read_text().splitlines() if line and not line.startswith("#")]
    keys = np.array([[float(v) for v in row.split(",")] for row in rows[1:]])
    truth = np.full((frames, 4), np.nan)
    for (f0, *b0), (f1, *b1) in zip(keys[:-1], keys[1:]):
        for f in range(int(f0), min(int(f1), frames - 1) + 1):
            t = (f - f0) / (f1 - f0)
            if t == 0:
                truth[f] = b0
            elif not np.isnan(b0 + b1).any():     # between a key frame in view and one without the target: absent
                truth[f] = (1 - t) * np.array(b0) + t * np.array(b1)
    return truth


def read_video(limit: int = 300) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(default_source()))
    frames = []
    while len(frames) < limit:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(np.ascontiguousarray(frame[:, :, ::-1]))   # RGB, as the trackers take it
    return frames


def centres(boxes: np.ndarray) -> np.ndarray:
    return boxes[:, :2] + boxes[:, 2:] / 2


def on_target(boxes: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """``(N,)`` bool for the frames where the target is in view; frame 0 (the given box) excluded."""
    visible = ~np.isnan(truth[:, 0])
    visible[0] = False
    error = np.linalg.norm(centres(boxes[visible]) - centres(truth[visible]), axis=1)
    return error <= CENTRE_THRESHOLD_PX


def summary(name: str, boxes: np.ndarray, truth: np.ndarray, statuses: list[str] | None = None) -> str:
    hits = on_target(boxes, truth)                     # frames 1.. while the target is in view
    first_miss = int(np.argmin(hits)) + 1 if not hits.all() else None
    # the first miss that lasts LASTING_MISS frames: a switch to something else, not a brief slip
    lasting = next((f + 1 for f in range(len(hits) - LASTING_MISS + 1) if not hits[f:f + LASTING_MISS].any()), None)
    lost_after = "-"
    if statuses is not None:
        gone = np.isnan(truth[:, 0])
        after = [s for s, g in zip(statuses, gone) if g]
        lost_after = f"{sum(s == 'LOST' for s in after)} / {len(after)}"
    return f"| {name} | {int(hits.sum())} / {len(hits)} | {first_miss or '-'} | {lasting or '-'} | {lost_after} |"


def run_tracker(tracker, frames: list[np.ndarray]) -> tuple[np.ndarray, list[str] | None]:
    tracker.init(frames[0], np.array(DEFAULT_BOX))
    boxes, statuses = [np.array(DEFAULT_BOX)], ["INIT"]
    for frame in frames[1:]:
        if isinstance(tracker, ViLTrackerAdapter):
            result = tracker.tracker.update(frame)
            boxes.append(np.asarray(result.box, dtype=float))
            statuses.append(result.status.name)
        else:
            box = tracker.update(frame)
            boxes.append(boxes[-1] if box is None else np.asarray(box, dtype=float))
    return np.array(boxes), (statuses if isinstance(tracker, ViLTrackerAdapter) else None)


def read_demo_csv(path: Path, frames: int) -> tuple[np.ndarray, list[str]]:
    boxes = np.full((frames, 4), np.nan)
    statuses = ["-"] * frames
    boxes[0] = DEFAULT_BOX
    with path.open() as handle:
        for row in csv.DictReader(handle):
            f = int(row["frame"])
            if f < frames:
                boxes[f] = [float(row[k]) for k in ("x", "y", "width", "height")]
                statuses[f] = row["status"]
    for f in range(1, frames):           # a frame the node dropped keeps the last box
        if np.isnan(boxes[f, 0]):
            boxes[f] = boxes[f - 1]
    return boxes, statuses


def draw_sheets(frames: list[np.ndarray], truth: np.ndarray, out: Path) -> None:
    keys = [int(line.split(",")[0]) for line in (HERE / "keyframes.csv").read_text().splitlines()
            if line and line[0].isdigit() and "nan" not in line]
    tiles = []
    for f in keys:
        image = cv2.cvtColor(frames[f], cv2.COLOR_RGB2BGR)
        x, y, w, h = truth[f]
        cv2.rectangle(image, (int(x), int(y)), (int(x + w), int(y + h)), (0, 255, 0), 1)
        cx, cy = int(x + w / 2), int(y + h / 2)
        padded = cv2.copyMakeBorder(image, 80, 80, 80, 80, cv2.BORDER_CONSTANT)
        tile = cv2.resize(padded[cy:cy + 160, cx:cx + 160], (240, 240), interpolation=cv2.INTER_NEAREST)
        cv2.putText(tile, str(f), (4, 16), 0, 0.5, (0, 255, 255), 1)
        tiles.append(tile)
    while len(tiles) % 7:
        tiles.append(np.zeros_like(tiles[0]))
    cv2.imwrite(str(out), np.vstack([np.hstack(tiles[k:k + 7]) for k in range(0, len(tiles), 7)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default=None)
    parser.add_argument("--settings", nargs="*", default=[], metavar="NAME=VALUE")
    parser.add_argument("--demo-csv", type=Path, default=None)
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--nanotrack", type=Path, default=HERE.parents[3] / "shared" / "models" / "nanotrack_v2",
                        help="NanoTrack v2's folder (default: the shared one beside this checkout)")
    parser.add_argument("--sheets", type=Path, default=None)
    args = parser.parse_args()
    frames = read_video()
    truth = read_truth(len(frames))
    if args.sheets:
        draw_sheets(frames, truth, args.sheets)
        print("wrote", args.sheets)
        return
    print("| tracker | frames on target (in view) | first frame off | first miss of 10+ frames | LOST after the exit |")
    print("|---|---:|---:|---:|---:|")
    if args.demo_csv:
        boxes, statuses = read_demo_csv(args.demo_csv, len(frames))
        print(summary(f"node ({args.demo_csv})", boxes, truth, statuses))
        return
    settings = {k: yaml.safe_load(v) for k, v in (item.split("=", 1) for item in args.settings)}
    label = "ViLTrack" + (f" ({', '.join(args.settings)})" if args.settings else "")
    trackers = [ViLTrackerAdapter.from_checkpoint(args.weights, name=label, settings=settings)]
    if not args.no_peers:
        peers, skipped = peer_trackers("NanoTrack,CSRT,KCF", nanotrack_dir=args.nanotrack)
        trackers += peers + [SiameseStemBaseline()]
        for reason in skipped:
            print("skipped:", reason)
    for tracker in trackers:
        boxes, statuses = run_tracker(tracker, frames)
        print(summary(tracker.name, boxes, truth, statuses))


if __name__ == "__main__":
    main()
