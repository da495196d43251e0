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
The target classifier's own constants (``TargetClassifier``'s defaults), each changed alone against the defaults.

With classifier_weight 0.4, scored on val and dev from 5 start frames (held-out: never). Writes one tune table per
variant under ``variants/`` and prints a line each; ``variants.json`` holds the scores of the run reported in README.md.

    python docs/experiments/tuning/target_classifier/variants_run.py
"""
import json
from pathlib import Path

from viltrack_ros.tracking import discriminative
from viltrack_ros.training.experiment import tune

HERE = Path(__file__).resolve().parent
NAMES = ("components", "kernel", "regularisation", "learning_rate", "first_frame_weight", "label_sigma")
VARIANTS = [dict(learning_rate=0.05), dict(learning_rate=0.2), dict(first_frame_weight=0.25),
            dict(first_frame_weight=0.75), dict(kernel=1), dict(regularisation=0.03), dict(regularisation=0.3),
            dict(label_sigma=0.15), dict(label_sigma=0.4), dict(components=16), dict(components=64)]

defaults = dict(zip(NAMES, discriminative.TargetClassifier.__init__.__defaults__))
for variant in VARIANTS:
    options = {**defaults, **variant}
    discriminative.TargetClassifier.__init__.__defaults__ = tuple(options[n] for n in NAMES)
    tag = "_".join(f"{k}{v}" for k, v in variant.items())
    out = HERE / "variants" / tag
    tune(Path("viltrack_ros/weights/viltrack_default.pt"), ["classifier_weight=0.4"], out, 2, restarts=5)
    for scores in json.loads((out / "tuning.json").read_text())["settings"].values():
        print(f"{tag}: val {scores['val']['auc']:.3f}, dev {scores['dev']['auc']:.3f}", flush=True)
