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
What the occlusion augmentation shows the network: training search crops with and without it.

    source scripts/env.sh; PYTHONPATH=$PWD:$PYTHONPATH python docs/experiments/occlusion/draw_samples.py

Reads the cached training pairs (`outputs/cache`, built by the first `viltrack experiment` run on this config) and
writes `outputs/occlusion/samples.png` (not committed: the crops are research-use frames, which stay in ../shared):
8 random positive crops of the `train` split, above as stored, below partly hidden by
`occlude_target` under another video's crop; green: the label box, which does not change.
"""
from pathlib import Path

import cv2
import numpy as np
import yaml

from viltrack_ros.data.precropped import default_train_root
from viltrack_ros.training.experiment import occlude_target
from viltrack_ros.training.pair_cache import PairCacheSpec, build_pair_cache

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]


def main() -> None:
    config = yaml.safe_load((REPO / "config/train/occlusion.yaml").read_text())
    cache = build_pair_cache(default_train_root(), PairCacheSpec(**config["pairs"]), REPO / config["cache_dir"])
    rng = np.random.default_rng(4)
    rows = rng.choice(len(cache), size=8, replace=False)
    top, bottom = [], []
    for row in rows:
        crops, boxes = cache.searches[row, :1], cache.boxes[row, :1]
        donor_row = int(rng.choice(np.flatnonzero(cache.video_of_row != cache.video_of_row[row])))
        hidden = occlude_target(crops, boxes, cache.searches[donor_row, 0], rng)
        for image, out in ((crops[0], top), (hidden[0], bottom)):
            image = np.ascontiguousarray(image[:, :, ::-1])
            s = image.shape[0]
            cx, cy, w, h = boxes[0] * s
            cv2.rectangle(image, (int(cx - w / 2), int(cy - h / 2)), (int(cx + w / 2), int(cy + h / 2)),
                          (0, 255, 0), 1)
            out.append(image)
    out = REPO / "outputs" / "occlusion" / "samples.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), np.vstack([np.hstack(top), np.hstack(bottom)]))
    print("wrote", out)


if __name__ == "__main__":
    main()
