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
Draw ``frame_rate.png``: val and dev success AUC against the frame step (1 = every frame, 3 = every third).

One curve for each tracker setting of the frame-rate runs, NanoTrack v2 from the same runs beside them.

    python docs/experiments/tuning/frame_rate/plot.py outputs/frame_rate   # reads step*/tuning.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

from viltrack_ros.tracking import TrackerConfig  # noqa: E402


def shown(label: str) -> str:
    """Return the row's label, marked when its settings are the tracker's defaults."""
    if "=" not in label:
        return label
    settings = {k: yaml.safe_load(v) for k, v in (item.split("=") for item in label.split(", "))}
    defaults = TrackerConfig().to_dict()
    return label + " (defaults)" if all(defaults[k] == v for k, v in settings.items()) else label


def main() -> None:
    runs = Path(sys.argv[1] if len(sys.argv) > 1 else "outputs/frame_rate")
    steps = sorted(int(p.name[4:]) for p in runs.glob("step*") if (p / "tuning.json").is_file())
    tables = {step: json.loads((runs / f"step{step}" / "tuning.json").read_text())["settings"] for step in steps}
    labels = list(tables[steps[0]])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for ax, split in zip(axes, ("val", "dev")):
        for label in labels:
            values = [tables[step][label][split]["auc"] for step in steps]
            style = "k--" if "NanoTrack" in label else "-"
            ax.plot(steps, values, style, marker="o", label=shown(label))
        ax.set_title(f"{split} (5 start frames each)")
        ax.set_xlabel("frame step (every N-th frame: 1/N of the frame rate)")
        ax.set_xticks(steps)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("success AUC")
    axes[1].legend(fontsize=7, loc="lower left")
    fig.suptitle("Shipped weights at lower frame rates: the search region centred on the last box or moved ahead")
    fig.tight_layout()
    out = Path(__file__).with_name("frame_rate.png")
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
