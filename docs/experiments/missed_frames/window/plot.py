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
Plot val / dev AUC against the window's weight after missed frames, one panel per frame step, NanoTrack dashed.

    python docs/experiments/missed_frames/window/plot.py    # reads step*.json and low_step*.json beside it
"""
import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
STEPS = {"2": "every 2nd frame", "3": "every 3rd frame", "5": "every 5th frame", "1-3": "steps of 1-3 frames"}
SHIPPED = 0.1


def scores(step: str) -> tuple[dict[float, dict], dict | None]:
    """Return {window: {split: auc}} and NanoTrack's {split: auc} (None where not run) for one frame step."""
    arms, peer = {}, None
    for name in (f"step{step}.json", f"low_step{step}.json"):
        for label, result in json.loads((HERE / name).read_text())["settings"].items():
            found = re.search(r"=([\d.]+)$", label)
            if found:
                arms[float(found.group(1))] = {split: result[split]["auc"] for split in ("val", "dev")}
            elif "NanoTrack" in label:
                peer = {split: result[split]["auc"] for split in ("val", "dev")}
    return dict(sorted(arms.items(), reverse=True)), peer


def main() -> None:
    figure, axes = plt.subplots(1, len(STEPS), figsize=(16, 4), sharey=True)
    for axis, (step, title) in zip(axes, STEPS.items()):
        arms, peer = scores(step)
        windows = list(arms)
        for split, colour in (("val", "tab:blue"), ("dev", "tab:orange")):
            axis.plot(windows, [arms[w][split] for w in windows], "o-", color=colour, label=f"ours, {split}")
            if peer:
                axis.axhline(peer[split], color=colour, linestyle="--", label=f"NanoTrack v2, {split}")
        axis.axvline(SHIPPED, color="grey", linestyle=":", label="shipped (0.1)")
        axis.axvline(0.5, color="grey", linestyle="-.", linewidth=0.8, label="before (0.5)")
        axis.invert_xaxis()
        axis.set_title(title)
        axis.set_xlabel("window_influence after missed frames")
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("success AUC, 5 start frames")
    axes[-1].legend(fontsize=8, loc="lower right")
    figure.suptitle("The window after missed frames: val and dev (held-out: never)")
    figure.tight_layout()
    figure.savefig(HERE / "window.png", dpi=110)


if __name__ == "__main__":
    main()
