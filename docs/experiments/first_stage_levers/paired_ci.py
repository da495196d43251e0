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
How large a gain over its control each lever's run shows, with a 95% interval from a paired bootstrap.

The bootstrap is over the videos (the unit that varies: a video and its 5 start frames are resampled together), so a
"tie" is a measured statement and not a reading of two means.

    python docs/experiments/first_stage_levers/paired_ci.py    # prints the table in README.md
"""
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from plot_levers import EXPERIMENTS, LEVERS   # beside this script

CONTROL = {seed: name for seed, name in LEVERS[0][2]}
REPLICATES = 10_000


def per_start(path: Path, split: str) -> dict[str, float]:
    return json.loads(path.read_text())["settings"]["defaults"][split]["per_sequence"]


def paired_interval(run: dict[str, float], control: dict[str, float], rng) -> tuple[float, float, float]:
    """Mean difference over all (video, start) rows and its 95% bootstrap interval, resampling videos."""
    by_video = defaultdict(list)
    for key, value in run.items():
        by_video[key.split("@")[0]].append(value - control[key])
    videos = [np.array(values) for values in by_video.values()]
    sums, counts = np.array([v.sum() for v in videos]), np.array([len(v) for v in videos])
    picks = rng.integers(0, len(videos), size=(REPLICATES, len(videos)))
    means = sums[picks].sum(axis=1) / counts[picks].sum(axis=1)
    return sums.sum() / counts.sum(), *np.percentile(means, [2.5, 97.5])


def main() -> None:
    rng = np.random.default_rng(0)
    print("| lever | seed | val gain [95% interval] | dev gain [95% interval] |")
    print("|---|---:|---:|---:|")
    for label, _, runs in LEVERS[1:]:
        for seed, name in runs:
            cells = []
            for split in ("val", "dev"):
                gain, low, high = paired_interval(per_start(EXPERIMENTS / name, split),
                                                  per_start(EXPERIMENTS / CONTROL[seed], split), rng)
                cells.append(f"{gain:+.3f} [{low:+.3f}, {high:+.3f}]")
            print(f"| {label} | {seed} | {cells[0]} | {cells[1]} |")
    # The same tool on two runs of one recipe: what a change of seed alone shows.
    cells = []
    for split in ("val", "dev"):
        gain, low, high = paired_interval(per_start(EXPERIMENTS / CONTROL[3], split),
                                          per_start(EXPERIMENTS / CONTROL[1], split), rng)
        cells.append(f"{gain:+.3f} [{low:+.3f}, {high:+.3f}]")
    print(f"| control seed 3 against control seed 1 (no change) | - | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
