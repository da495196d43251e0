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
"""Success and precision plots (PNG) in the OTB style: legend entries carry AUC / precision at 20 px."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")   # files only: evaluation runs headless (CI, ROS machines)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from viltrack_ros.evaluation.metrics import PRECISION_AT_PX, PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS  # noqa: E402


def plot_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], out_dir: str | Path, title: str,
                stem: str) -> list[Path]:
    """
    Plot the success and precision curves of every tracker, best first.

    ``curves``: tracker -> (success curve, precision curve). Writes ``<stem>_success.png`` and
    ``<stem>_precision.png`` with trackers ordered best first.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    at = int(np.searchsorted(PRECISION_THRESHOLDS, PRECISION_AT_PX))
    for kind, thresholds, xlabel, index, key in (
            ("success", SUCCESS_THRESHOLDS, "overlap threshold (IoU)", 0, lambda c: float(np.mean(c))),
            ("precision", PRECISION_THRESHOLDS, "location error threshold (px)", 1, lambda c: float(c[at]))):
        figure, axes = plt.subplots(figsize=(5.5, 4.5), dpi=100)
        ranked = sorted(curves.items(), key=lambda item: -np.nan_to_num(key(item[1][index]), nan=-1))
        for name, pair in ranked:
            curve = pair[index]
            label = f"{name} [{key(curve):.3f}]"
            axes.plot(thresholds, curve, linewidth=2, label=label)
        if kind == "precision":
            axes.axvline(PRECISION_AT_PX, color="grey", linestyle=":", linewidth=1)
        axes.set_xlim(thresholds[0], thresholds[-1])
        axes.set_ylim(0, 1.02)
        axes.set_xlabel(xlabel)
        axes.set_ylabel("success rate" if kind == "success" else "precision")
        axes.set_title(f"{'Success (AUC)' if kind == 'success' else 'Precision (@20 px)'}: {title}", fontsize=10)
        axes.grid(alpha=0.3)
        axes.legend(loc="lower left" if kind == "success" else "lower right", fontsize=8)
        figure.tight_layout()
        path = out_dir / f"{stem}_{kind}.png"
        figure.savefig(path)
        plt.close(figure)
        written.append(path)
    return written


def plot_grouped_bars(values: dict[str, dict[str, float]], path: str | Path, title: str,
                      ylabel: str = "success AUC") -> Path:
    """
    Plot one group of bars per item (a video), one bar per tracker, trackers in the order given.

    ``values``: tracker -> item -> value; every tracker has the same items. Writes the PNG at ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    trackers = list(values)
    items = list(values[trackers[0]])
    width = 0.8 / len(trackers)
    figure, axes = plt.subplots(figsize=(max(6.0, 1.3 * len(items) + 2), 4.5), dpi=100)
    for k, name in enumerate(trackers):
        offsets = np.arange(len(items)) - 0.4 + width * (k + 0.5)
        axes.bar(offsets, [values[name][item] for item in items], width, label=name)
    axes.set_xticks(np.arange(len(items)))
    axes.set_xticklabels(items, rotation=20, ha="right", fontsize=8)
    axes.set_ylim(0, 1.0)
    axes.set_ylabel(ylabel)
    axes.set_title(title, fontsize=10)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(fontsize=7, loc="upper left", ncol=2)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path
