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
Plot dev's success AUC against the shake's amplitude: ours without and with camera_motion, and NanoTrack v2.

Reads ``camera_motion.json`` (as recorded: 0 px; shaken: 16 px) and ``shake8/``, ``shake32/`` beside this file,
written by ``camera_motion.py --sets dev --only shaken --shake N --peer --out docs/experiments/camera_motion/shakeN``.

    python docs/experiments/camera_motion/plot_amplitudes.py
"""
import json
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
LABELS = {"camera_motion=False": "ViLTrack (default)", "camera_motion=True": "ViLTrack, camera_motion",
          "NanoTrack v2": "NanoTrack v2"}


def points() -> dict[str, list[tuple[float, float]]]:
    main = json.loads((HERE / "camera_motion.json").read_text())
    sources = [(0.0, main, "dev/recorded"), (16.0, main, "dev/shaken")]
    for amplitude in (8.0, 32.0):
        sources.append((amplitude, json.loads((HERE / f"shake{amplitude:g}" / "camera_motion.json").read_text()),
                        "dev/shaken"))
    curves = {label: [] for label in LABELS.values()}
    for amplitude, results, prefix in sorted(sources, key=lambda s: s[0]):
        for suffix, label in LABELS.items():
            curves[label].append((amplitude, results[f"{prefix}/{suffix}"]["auc"]))
    return curves


def main() -> None:
    figure, axes = plt.subplots(figsize=(6.0, 4.0), dpi=100)
    for label, values in points().items():
        axes.plot(*zip(*values), marker="o", label=label)
    axes.set_xlabel("shake: largest offset of a frame, pixels in x and y")
    axes.set_ylabel("success AUC, dev, 5 start frames")
    axes.set_title("A shaking camera", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(HERE / "amplitudes.png")
    for label, values in points().items():
        print(label, " ".join(f"{a:g}px {v:.3f}" for a, v in values))


if __name__ == "__main__":
    main()
