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
import sys
import numpy as np
import torch
import torch.nn.functional as F
torch.set_num_threads(1)
from viltrack_ros.tracking.stem_baseline import SiameseStemTracker
from viltrack_ros.model.onnx_graph import OnnxGraphModule
from viltrack_ros.evaluation.trackers import SiameseStemBaseline
from viltrack_ros.model.nanotrack_stem import nanotrack_backbone_file
from viltrack_ros.training.experiment import validation_sequences, development_sequences, score_trackers
from viltrack_ros.data.precropped import default_train_root
from viltrack_ros.data.sequences import restarted_sequences
BGR = sys.argv[1] == 'bgr'


class NanoStem(SiameseStemTracker):
    def __init__(self):
        super().__init__()
        self.nano = OnnxGraphModule(nanotrack_backbone_file()).eval()

    @torch.inference_mode()
    def _features(self, crops):
        x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float()
        if BGR:
            x = x.flip(1)
        return F.normalize(self.nano(x), dim=1)


class Adapter(SiameseStemBaseline):
    def __init__(self, name):
        self.name = name
        self.tracker = NanoStem()


trackers = [Adapter('nano_floor_' + sys.argv[1])]
if len(sys.argv) > 2:
    trackers.append(SiameseStemBaseline(name='effnet_floor'))
val = restarted_sequences(validation_sequences(default_train_root()), 3)
dev = restarted_sequences(development_sequences(), 3)
for name, seqs in (('val', val), ('dev', dev)):
    r = score_trackers(trackers, seqs, progress=False)
    for t in r:
        print(name, t, r[t]['auc'])
