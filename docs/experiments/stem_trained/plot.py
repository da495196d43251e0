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
The whole stem trained against its frozen control and the weights both started from: mean success AUC per set.

    python docs/experiments/stem_trained/plot.py

Reads this folder's copies of the runs' tables (val_dev_*.json: `viltrack experiment --tune ... --restarts 5`;
fresh_*.json: `docs/experiments/peer_gap/fresh_set.py`) and the shipped weights' val/dev scores of
`../peer_gap/peer_gap.json` and writes stem_trained.png.
"""
import json
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
OURS, PEER = "ViLTrack", "NanoTrack v2"


def read(name: str) -> dict:
    return json.loads((HERE / name).read_text())


def bar_chart(bars: dict[str, list[float]], sets: list[str], title: str, path: Path) -> None:
    """Draw grouped bars: one group per set, one bar per weights (the peer's in grey), each with its value."""
    width = 0.8 / len(bars)
    figure, axes = plt.subplots(figsize=(8, 4.2), dpi=100)
    for k, (label, values) in enumerate(bars.items()):
        offsets = np.arange(len(sets)) - 0.4 + width * (k + 0.5)
        axes.bar(offsets, values, width, label=label, color=None if label != PEER else "0.6")
        for x, v in zip(offsets, values):
            axes.text(x, v + 0.005, f"{v:.3f}", ha="center", fontsize=7)
    axes.set_xticks(np.arange(len(sets)))
    axes.set_xticklabels(sets)
    axes.set_ylim(0.4, 0.75)
    axes.set_ylabel("mean success AUC, 5 start frames")
    axes.set_title(title, fontsize=10)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    figure.savefig(path)
    print("wrote", path)


def continuation_bars(candidate_label: str, val_dev: dict, fresh: dict) -> dict[str, list[float]]:
    """
    Return the bars of a continuation of the shipped weights against its frozen control (this folder's runs).

    ``val_dev``: the candidate's ``settings.defaults`` of a ``--tune`` table; ``fresh``: its ``scores`` from
    ``fresh_set.py``. The start weights, the control and NanoTrack come from this folder and ``../peer_gap/``.
    """
    shipped = read("../peer_gap/peer_gap.json")["splits"]
    frozen = read("val_dev_frozen_control.json")["settings"]["defaults"]
    fresh_base = read("../peer_gap/fresh_data_amount_three_quarters.json")["scores"]
    fresh_frozen = read("fresh_frozen_control.json")["scores"]
    return {
        "weights they start from": [shipped["val"][OURS]["auc"], shipped["dev"][OURS]["auc"], fresh_base[OURS]["auc"]],
        "continued, stem frozen (control)": [frozen["val"]["auc"], frozen["dev"]["auc"], fresh_frozen[OURS]["auc"]],
        candidate_label: [val_dev["val"]["auc"], val_dev["dev"]["auc"], fresh[OURS]["auc"]],
        "NanoTrack v2": [shipped["val"][PEER]["auc"], shipped["dev"][PEER]["auc"], fresh[PEER]["auc"]],
    }


SETS = ["val (8 videos)", "dev (5 videos)", "fresh A (15 untouched videos)"]


def main() -> None:
    bars = continuation_bars("continued, whole stem trained", read("val_dev_stem_trained.json")["settings"]["defaults"],
                             read("fresh_stem_trained.json")["scores"])
    bar_chart(bars, SETS, "The whole stem trained for 45 CPU minutes (640 steps) against the stem frozen",
              HERE / "stem_trained.png")


if __name__ == "__main__":
    main()
