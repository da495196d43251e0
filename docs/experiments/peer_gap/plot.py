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
Draw where ours stands against its peers on each set, from 5 start frames: peer_gap.png beside this file.

Reads peer_gap.json (val, dev), the two fresh_*.json and the held-out table the release run folded into the shipped
checkpoint's training record.

    source scripts/env.sh && python docs/experiments/peer_gap/plot.py
"""
import json
from pathlib import Path

from viltrack_ros.evaluation.plots import plot_grouped_bars
from viltrack_ros.model.checkpoint import default_weights_path, load_checkpoint

HERE = Path(__file__).resolve().parent
TRACKERS = ("ViLTrack", "NanoTrack v2", "CSRT", "Siamese EfficientNet-Lite0 (training-free)")


def main() -> None:
    gap = json.loads((HERE / "peer_gap.json").read_text())["splits"]
    sets = {"val (shipped)": gap["val"], "dev (shipped)": gap["dev"]}
    for label, name in (("fresh A (3/4 arm)", "fresh_data_amount_three_quarters.json"),
                        ("fresh B (3/4 arm)", "fresh_data_amount_three_quarters_other.json")):
        sets[label] = json.loads((HERE / name).read_text())["scores"]
    _, info = load_checkpoint(default_weights_path())
    sets["held-out (shipped)"] = info["training"]["heldout_eval_restarts"]
    values = {tracker: {label: scores[tracker]["auc"] for label, scores in sets.items()} for tracker in TRACKERS}
    path = plot_grouped_bars(values, HERE / "peer_gap.png",
                             "Mean success AUC from 5 start frames: chosen-on, fresh and held-out sets")
    print(path)


if __name__ == "__main__":
    main()
