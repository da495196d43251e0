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
The train sequences of the data-amount arms (config/train/data_amount_*.yaml).

The train split's source videos shuffled once, taken in that order until their stored frames reach the share.
Sub-sequences of one video
(data.precropped.source_video) stay together: a video is kept whole or not at all.

    python docs/experiments/data_amount/subsets.py 0.25 0.5
"""
import argparse
from pathlib import Path

import numpy as np

from viltrack_ros.data.precropped import default_train_root, load_precropped, source_video


def subsets(root: Path, shares: list[float], seed: int = 0) -> dict[float, list[str]]:
    sequences = load_precropped(root, split="train")
    names = [s.name for s in sequences]
    frames = {s.name: len(s) for s in sequences}
    videos = sorted({source_video(n) for n in names})
    frames_of_video = {v: sum(f for n, f in frames.items() if source_video(n) == v) for v in videos}
    order = [videos[i] for i in np.random.default_rng(seed).permutation(len(videos))]
    total = sum(frames.values())
    chosen = {}
    for share in shares:
        kept, count = [], 0
        for video in order:
            if count >= share * total:
                break
            kept.append(video)
            count += frames_of_video[video]
        chosen[share] = [n for n in names if source_video(n) in kept]
        print(f"share {share}: {len(kept)} of {len(videos)} videos, {len(chosen[share])} of {len(names)} sequences, "
              f"{count} of {total} frames")
        print("  sequences: [" + ", ".join(chosen[share]) + "]")
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("shares", type=float, nargs="+")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    subsets(Path(default_train_root()), args.shares, args.seed)


if __name__ == "__main__":
    main()
