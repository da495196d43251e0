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
Draw ``missed_frames.png``: val and dev success AUC against the frame step, the tracker told the frames missed or not.

Reads the ``step*.json`` tables beside it (``viltrack experiment --tune ... --frame-step N --nanotrack``). At step 1
the two settings are the same tracker (no frame is missed), so the step-1 table has one row for both.

    python docs/experiments/missed_frames/plot.py
"""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
CURVES = {"missed_frames_prediction=False": "not told (or the setting off): search centred on the last box",
          "missed_frames_prediction=True": "told the frames missed (the default): search ahead",
          "NanoTrack v2 (peer)": "NanoTrack v2, same frames"}


def main() -> None:
    steps = sorted(int(p.stem[4:]) for p in HERE.glob("step*.json"))
    tables = {step: json.loads((HERE / f"step{step}.json").read_text())["settings"] for step in steps}
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, split in zip(axes, ("val", "dev")):
        for key, label in CURVES.items():
            points = [(step, tables[step].get(key, tables[step].get("defaults"))) for step in steps]
            points = [(step, row[split]["auc"]) for step, row in points if row is not None]
            style = "k--" if "NanoTrack" in key else "-"
            ax.plot(*zip(*points), style, marker="o", label=label)
        ax.set_title(f"{split} (5 start frames each)")
        ax.set_xlabel("frame step (the tracker sees every N-th camera frame)")
        ax.set_xticks(steps)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("success AUC")
    axes[1].legend(fontsize=7, loc="lower left")
    fig.suptitle("Shipped weights when frames are missed: told how many (MultiTracker.update(image, frames_elapsed))")
    fig.tight_layout()
    out = HERE / "missed_frames.png"
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
