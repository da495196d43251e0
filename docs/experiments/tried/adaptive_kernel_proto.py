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
r"""
Tried and not kept: the correlation prior's kernel (the template's 3x3 central stem cells) adapted online.

On each TRACKING frame with network score >= 0.5, the 3x3 stem cells around the tracked centre of the search crop
(bilinear, one cell apart: the template and the search crop have the same pixels per target size) are blended into
a running kernel (KERNEL_RATE), mixed with the first frame's kernel (KERNEL_ANCHOR) and written back into the
target's template memory. Run as the experiment tool, e.g.

    KERNEL_RATE=0.1 KERNEL_ANCHOR=0.5 python docs/experiments/tried/adaptive_kernel_proto.py \
        --tune viltrack_ros/weights/viltrack_default.pt --grid classifier_weight=0.4 --restarts 5 --threads 1 --out OUT

It patches the tracker's source at run time (a prototype, not product code). Results: adaptive_kernel.md.
"""
import os
import sys
import viltrack_ros.tracking.tracker as T
RATE = float(os.environ.get("KERNEL_RATE", "0.1"))
ANCHOR = float(os.environ.get("KERNEL_ANCHOR", "0.5"))
src = open(T.__file__).read()
old = """        for target_id, target, transform, box, confidence, network_score, valid in zip(
                ids, targets, transforms, boxes, confidences.tolist(), network_scores.tolist(), finite):"""
assert old in src
src = src.replace(old, """        for index_, (target_id, target, transform, box, confidence, network_score, valid) in enumerate(zip(
                ids, targets, transforms, boxes, confidences.tolist(), network_scores.tolist(), finite)):""")
old = """                target.classifier.learn(box)        # from the crop _ranking just had it score
"""
assert old in src
src = src.replace(old, old + """            if (results[target_id].status == TrackStatus.TRACKING and network_score >= cfg.classifier_learn_threshold
                    and target.memory is not None):
                _adapt_kernel(target, appearance[index_], box)
""")
src += '''

def _bilinear(features, y, x):
    C, g, _ = features.shape
    y = min(max(y, 0.0), g - 1.0); x = min(max(x, 0.0), g - 1.0)
    y0, x0 = int(np.floor(y)), int(np.floor(x)); y1, x1 = min(y0 + 1, g - 1), min(x0 + 1, g - 1)
    wy, wx = y - y0, x - x0
    return ((1 - wy) * (1 - wx) * features[:, y0, x0] + (1 - wy) * wx * features[:, y0, x1]
            + wy * (1 - wx) * features[:, y1, x0] + wy * wx * features[:, y1, x1])


def _adapt_kernel(target, features, box):
    import os
    rate = float(os.environ.get("KERNEL_RATE", "0.1")); anchor = float(os.environ.get("KERNEL_ANCHOR", "0.5"))
    g = features.shape[-1]
    cy, cx = box[1] * g - 0.5, box[0] * g - 0.5
    cells = [_bilinear(features, cy + dy, cx + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    new = np.stack(cells, axis=1)                                   # (C, 9)
    new /= np.linalg.norm(new, axis=0, keepdims=True) + 1e-6
    kernel = target.memory[-1]
    if not hasattr(target, "_first_kernel"):
        target._first_kernel = kernel[0].copy()
        target._running_kernel = kernel[0].copy()
    target._running_kernel = (1 - rate) * target._running_kernel + rate * new
    mixed = anchor * target._first_kernel + (1 - anchor) * target._running_kernel
    mixed /= np.linalg.norm(mixed, axis=0, keepdims=True) + 1e-6
    target.memory = (*target.memory[:-1], mixed[None].astype(kernel.dtype))
'''
exec(compile(src, T.__file__, "exec"), T.__dict__)
import viltrack_ros.tracking as TT
TT.MultiTracker = T.MultiTracker
TT.ViLTracker = T.ViLTracker
if os.environ.get("RUN_DEMO"):
    sys.path.insert(0, "docs/experiments/demo_truth")
    import demo_truth
    demo_truth.main()
    sys.exit(0)
from viltrack_ros.training.experiment import main
sys.exit(main(sys.argv[1:]))
