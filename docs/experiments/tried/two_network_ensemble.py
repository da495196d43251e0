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
Two networks at once, as tried in checkpoint_averages.md.

Both see the same search crop (the first one's box), their score maps (as probabilities, or as logits) and box outputs
are averaged, each keeps its own FiLM context. Scored on val and dev from 5 start frames. A check of the idea, patched
onto the tracker from outside, not product code:
    python docs/experiments/tried/two_network_ensemble.py WEIGHTS_A WEIGHTS_B prob|logit OUT.json
"""
import sys
import json
import numpy as np
import torch
from pathlib import Path
from viltrack_ros.tracking import ViLTracker
from viltrack_ros.evaluation.trackers import ViLTrackerAdapter
from viltrack_ros.training.experiment import (score_trackers, validation_sequences, development_sequences,
                                              restarted_sequences)
from viltrack_ros.data.precropped import default_train_root
torch.set_num_threads(1)
wa, wb, mode = sys.argv[1], sys.argv[2], sys.argv[3]


class Ens(ViLTrackerAdapter):
    def __init__(self):
        self.a = ViLTracker.from_checkpoint(wa)
        self.b = ViLTracker.from_checkpoint(wb)
        super().__init__(self.a, name="ens")
        A, B = self.a._multi, self.b._multi
        orig = A._network_step

        def step(targets, searches):
            oa = orig(targets, searches)
            tb = [B._targets[0]]
            ob = B._network_step(tb, searches)
            tb[0].film_context = ob[3][0]
            if mode == 'logit':
                score = (oa[0] + ob[0]) / 2
            else:
                pa, pb = 1/(1+np.exp(-oa[0])), 1/(1+np.exp(-ob[0]))
                p = np.clip((pa+pb)/2, 1e-6, 1-1e-6)
                score = np.log(p/(1-p))
            return score, (oa[1]+ob[1])/2, (oa[2]+ob[2])/2, oa[3]
        A._network_step = step

    def init(self, image, box):
        self.a.reset()
        self.b.reset()
        self.a.init(image, tuple(float(v) for v in box))
        self.b.init(image, tuple(float(v) for v in box))


val = restarted_sequences(validation_sequences(default_train_root()), 5)
dev = restarted_sequences(development_sequences(), 5)
e = Ens()
v = score_trackers([e], val)["ens"]
d = score_trackers([e], dev)["ens"]
print("ENSEMBLE", wa, wb, mode, "val %.3f dev %.3f" % (v["auc"], d["auc"]))
Path(sys.argv[4]).write_text(json.dumps({"val": v, "dev": d}, indent=1))
