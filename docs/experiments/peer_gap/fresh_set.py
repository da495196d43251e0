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
Ours against the peers on a fresh selection set: train videos that a model was not trained on and no choice touched.

The data-amount arms (`config/train/data_amount_three_quarters*.yaml`) train the shipped recipe on three quarters
of the train split's videos. The quarter they leave out was never trained on by them and never used to choose
anything (every choice was made on `val` and the development sequences), so it measures such a model, and the peers
beside it, the way the held-out set does, with more videos and without spending the held-out set. If ours leads
CSRT there as on val/dev, the held-out shortfall is about the held-out videos; if it trails there too, val/dev have
been fitted by the choices made on them.

    source scripts/env.sh && python docs/experiments/peer_gap/fresh_set.py \
        --config config/train/data_amount_three_quarters.yaml \
        --weights outputs/data_amount/b2_three_quarters_data_continued/model.pt --threads 2 --restarts 5

Writes fresh_<config stem>.md and .json beside this file. Held-out sequences: never.
"""
import argparse
import json
from pathlib import Path

import yaml
from peer_gap import OURS, trackers_in_one_run, video_means   # this folder's: the same four trackers, one way

from viltrack_ros.data.precropped import canvas_sequence, default_train_root, load_precropped, source_video
from viltrack_ros.machine import cpu_description
from viltrack_ros.training.experiment import pair_settings, restarted_sequences, score_trackers

HERE = Path(__file__).resolve().parent


def fresh_sequences(config_path: Path, root: Path) -> list:
    """Return the train split's sequences whose source video the config's arms did not train on."""
    trained = set(pair_settings(yaml.safe_load(config_path.read_text()))["sequences"])
    trained_videos = {source_video(name) for name in trained}
    return [s for s in load_precropped(root, split="train") if source_video(s.name) not in trained_videos]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n")[0])
    parser.add_argument("--config", type=Path, required=True, help="the data-amount arm's config (its train list)")
    parser.add_argument("--weights", type=Path, required=True, help="the model trained on that list")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE)
    args = parser.parse_args()
    fresh = fresh_sequences(args.config, Path(default_train_root()))
    print(f"{len(fresh)} fresh sequences: {', '.join(s.name for s in fresh)}")
    trackers, skipped = trackers_in_one_run(args.weights, args.threads)
    runs = restarted_sequences([canvas_sequence(s) for s in fresh], args.restarts)
    scores = score_trackers(trackers, runs)
    names = [t.name for t in trackers]
    per_video = {name: video_means(scores[name]["per_sequence"]) for name in names}
    result = {"config": str(args.config), "weights": str(args.weights), "threads": args.threads,
              "restarts": args.restarts, "cpu": cpu_description(), "skipped": skipped,
              "sequences": [s.name for s in fresh], "runs": len(runs),
              "scores": {n: {"auc": scores[n]["auc"], "precision": scores[n]["precision"], "per_video": per_video[n]}
                         for n in names}}
    stem = f"fresh_{args.config.stem}"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(result, indent=1))
    lines = [f"Weights `{args.weights}` (trained on `{args.config}`'s list), default settings, the {len(fresh)} train "
             f"sequences it left out, canvas replay, {args.restarts} start frames each ({len(runs)} runs), "
             f"{args.threads} threads, {result['cpu']}.", "",
             "| | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names),
             "| mean success AUC | " + " | ".join(f"{scores[n]['auc']:.3f}" for n in names) + " |",
             "| mean precision @20px | " + " | ".join(f"{scores[n]['precision']:.3f}" for n in names) + " |",
             "", "Per sequence (success AUC, mean over its start frames):", "",
             "| sequence | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for video in per_video[OURS]:
        lines.append(f"| {video} | " + " | ".join(f"{per_video[n][video]:.3f}" for n in names) + " |")
    (args.out / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
