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
Camera motion compensation (``camera_motion``) off and on, on val and dev as recorded, shaken, and at a lower rate.

Conditions (every sequence from 5 start frames, the shipped weights unless ``--weights``):

- ``recorded``: the videos as they are;
- ``shaken``: every frame shifted by its own random offset, up to ``--shake`` px either way in x and y
  (``data.sequences.ShakenSequence``, seeded by the sequence's place in its set): a camera on a robot driving over
  rough ground;
- ``step3``: one frame in 3, the targets and the camera moving 3 times as far between updates.

Val and dev only (held-out: never). Val's canvas replay moves its visible window with the target, which the estimate
would read as the camera's motion: only dev's whole frames judge it (``--sets dev``).

    python docs/experiments/camera_motion/camera_motion.py --out docs/experiments/camera_motion
"""
import argparse
import json
from pathlib import Path

import torch

from viltrack_ros.data.precropped import default_train_root
from viltrack_ros.data.sequences import Sequence, ShakenSequence, frame_step_sequences, restarted_sequences
from viltrack_ros.evaluation.plots import plot_grouped_bars
from viltrack_ros.evaluation.trackers import ViLTrackerAdapter, peer_trackers
from viltrack_ros.training.experiment import development_sequences, score_trackers, validation_sequences


def conditions(sequences: list[Sequence], shake: float) -> dict[str, list[Sequence]]:
    return {"recorded": list(sequences),
            "shaken": [ShakenSequence(s, shake, seed=index) for index, s in enumerate(sequences)],
            "step3": frame_step_sequences(sequences, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--weights", default=None)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--shake", type=float, default=16.0)
    parser.add_argument("--sets", nargs="*", default=None, help="val, dev (default: both)")
    parser.add_argument("--only", nargs="*", default=None, help="conditions to run (default: all)")
    parser.add_argument("--peer", action="store_true", help="NanoTrack v2 on the same runs (the peer, same run)")
    parser.add_argument("--out", type=Path, default=Path("outputs/camera_motion"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    sets = {"val": validation_sequences(default_train_root()), "dev": development_sequences()}
    weights = args.weights
    out = args.out / "camera_motion.json"
    args.out.mkdir(parents=True, exist_ok=True)
    results = json.loads(out.read_text()) if out.exists() else {}
    for set_name, sequences in sets.items():
        if args.sets and set_name not in args.sets:
            continue
        for condition, runs in conditions(sequences, args.shake).items():
            if args.only and condition not in args.only:
                continue
            runs = restarted_sequences(runs, args.restarts)
            peer_key = f"{set_name}/{condition}/NanoTrack v2"
            if args.peer and peer_key not in results:
                peers, skipped = peer_trackers("NanoTrack")
                print("\n".join(skipped))
                for peer in peers:
                    results[peer_key] = score_trackers([peer], runs)[peer.name]
                    print(peer_key, results[peer_key]["auc"], flush=True)
                    out.write_text(json.dumps(results, indent=1))
            for setting in (False, True):
                key = f"{set_name}/{condition}/camera_motion={setting}"
                if key in results:
                    continue
                tracker = ViLTrackerAdapter.from_checkpoint(weights, name=f"camera_motion={setting}",
                                                            settings={"camera_motion": setting})
                results[key] = score_trackers([tracker], runs)[tracker.name]
                print(key, results[key]["auc"], flush=True)
                out.write_text(json.dumps(results, indent=1))
    plot(results, out.with_suffix(".png"))


def plot(results: dict, path: Path) -> None:
    """One group of bars per set and condition: ours without and with camera_motion, and the peer where scored."""
    labels = {"camera_motion=False": "ViLTrack", "camera_motion=True": "ViLTrack, camera_motion",
              "NanoTrack v2": "NanoTrack v2"}
    groups = list(dict.fromkeys(key.rsplit("/", 1)[0] for key in results))
    values = {}
    for suffix, label in labels.items():
        if all(f"{group}/{suffix}" in results for group in groups):
            values[label] = {group: results[f"{group}/{suffix}"]["auc"] for group in groups}
    plot_grouped_bars(values, path, "camera_motion on dev, 5 start frames per sequence")


if __name__ == "__main__":
    main()
