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
Draw ``missed_frames.png``: val and dev success AUC against the frame step, with and without the search sent ahead.

Reads the ``step*.json`` tables beside it (``viltrack experiment --tune ... --grid missed_frames_prediction=false,true
fast_motion_threshold=0.0,0.3 --frame-step N --nanotrack``). At step 1 no frame is missed, so its table has one row
per threshold.

    python docs/experiments/missed_frames/plot.py
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
# (missed_frames_prediction, fast_motion_threshold) -> label; at step 1 nothing is missed, so its table has one row
# per threshold.
CURVES = {(False, 0.0): "neither (before): search on the last box",
          (False, 0.3): "fast-motion rule only (missed_frames_prediction off)",
          (True, 0.0): "missed-frames rule only (fast_motion_threshold 0)",
          (True, 0.3): "both (the defaults)"}
NANOTRACK = "NanoTrack v2 (peer)"
COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red")


def row(table: dict, told: bool, threshold: float) -> dict | None:
    """Return the table's row for these settings (a step-1 table is keyed by the threshold alone)."""
    return table.get(f"missed_frames_prediction={told}, fast_motion_threshold={threshold}",
                     table.get(f"fast_motion_threshold={threshold}"))


def main() -> None:
    names = [p.stem[4:] for p in HERE.glob("step*.json")]
    tables = {name: json.loads((HERE / f"step{name}.json").read_text())["settings"] for name in names}
    regular = sorted((int(n), n) for n in names if "-" not in n)
    # Irregular steps at their mean step, a little to the right so that their ticks do not cover the regular ones.
    irregular = sorted((sum(map(int, n.split("-"))) / 2 + 0.2, n) for n in names if "-" in n)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True)
    for ax, split in zip(axes, ("val", "dev")):
        for colour, ((told, threshold), label) in zip(COLOURS, CURVES.items()):
            points = [(x, row(tables[n], told, threshold)) for x, n in regular]
            ax.plot(*zip(*[(x, r[split]["auc"]) for x, r in points if r is not None]), "-", marker="o",
                    color=colour, label=label)
            ax.plot(*zip(*[(x, row(tables[n], told, threshold)[split]["auc"]) for x, n in irregular]), "s",
                    color=colour, markerfacecolor="none", markersize=8)
        ax.plot(*zip(*[(x, tables[n][NANOTRACK][split]["auc"]) for x, n in regular]), "k--", marker="o",
                label="NanoTrack v2, same frames")
        ax.plot(*zip(*[(x, tables[n][NANOTRACK][split]["auc"]) for x, n in irregular]), "ks",
                markerfacecolor="none", markersize=8, label="squares: steps of 1-2 / 1-3 frames drawn per step")
        ax.set_title(f"{split} (5 start frames each)")
        ax.set_xlabel("frame step (the tracker sees every N-th camera frame)")
        ax.set_xticks([x for x, _ in regular] + [x for x, _ in irregular],
                      [n for _, n in regular] + [n for _, n in irregular], fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("success AUC")
    axes[1].legend(fontsize=7, loc="lower left")
    fig.suptitle("Shipped weights when frames are missed: the search on the last box, or sent ahead")
    fig.tight_layout()
    out = HERE / "missed_frames.png"
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
