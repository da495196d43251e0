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
Tried: each target's online classifier on the stem's stride-8 features instead of the stride-16 ones.

The stride-8 features are EfficientNet-Lite0's after 5 blocks (40 channels, 20x20 cells for the 160-px search crop);
the stride-16 ones have 112 channels, 10x10.

Why: in the README demo and among look-alike pedestrians a stride-16 cell is about as wide as the person, so the
classifier cannot tell whose legs a cell holds. At stride 8 its 3x3-cell filter sees a quarter of the area at twice
the resolution. Its 20x20 answer is pooled 2x2 (CLS_POOL=max|mean) onto the network's 10x10 score map.

CLS_FEATURES: stride16 (the shipped classifier, but with the PyTorch backend, the reference for this comparison),
stride8, or both (stride 8 with the stride-16 features upsampled beside them). The features come from a forward hook
on the PyTorch backend's stem (the ONNX graph does not output them), so every run here uses backend torch.

    CLS_FEATURES=stride8 CLS_POOL=max python docs/experiments/tried/classifier_stride8_proto.py \
        --tune viltrack_ros/weights/viltrack_default.pt --restarts 5 --threads 1 --out OUT

A prototype that patches the tracker at run time, not product code. Results: classifier_stride8.md.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

import viltrack_ros.evaluation.trackers as trackers
import viltrack_ros.tracking.discriminative as discriminative
import viltrack_ros.tracking.tracker as tracker_module
from viltrack_ros.model.efficientnet_lite import EfficientNetLite0

FEATURES = os.environ.get("CLS_FEATURES", "stride8")
POOL = os.environ.get("CLS_POOL", "max")
STRIDE8_BLOCK = 4   # the fifth MBConv block ends the stride-8 stage (STRIDE_CUTS[8] = 5 blocks)

# Every tracker of the run on the PyTorch backend, where a hook can read the stem's inner features.
_from_checkpoint = trackers.ViLTrackerAdapter.from_checkpoint.__func__
trackers.ViLTrackerAdapter.from_checkpoint = classmethod(
    lambda cls, *args, **kwargs: _from_checkpoint(cls, *args, **{**kwargs, "backend": "torch"}))

_captured = {}


def _hook(module, inputs, output):
    if output.shape[-1] == 20:   # the search crop's map (a template's, if ever run, is 10x10)
        _captured["stride8"] = output.detach().float()


_hooked = set()


def _ensure_hooks(backend):
    """
    Put a forward hook on every stem body the backend may run.

    These are the modules' own, and the batch-norm-folded copy that a frozen stem caches outside its registered
    modules (``PretrainedStem._folded``, made at its first inference).
    """
    for module in backend.__dict__.values():
        if isinstance(module, torch.nn.Module):
            for sub in module.modules():
                folded = sub.__dict__.get("_folded")
                bodies = [sub] + ([folded[1]] if folded is not None else [])
                for body in bodies:
                    if isinstance(body, EfficientNetLite0) and id(body) not in _hooked:
                        body._blocks[STRIDE8_BLOCK].register_forward_hook(_hook)
                        _hooked.add(id(body))


_network_step = tracker_module.MultiTracker._network_step


def _network_step_with_fine_appearance(self, targets, searches):
    _ensure_hooks(self.backend)
    _captured.clear()
    outputs = list(_network_step(self, targets, searches))
    if FEATURES == "stride16":
        return tuple(outputs)
    fine = _captured["stride8"]
    if FEATURES == "both":
        coarse = F.interpolate(torch.from_numpy(np.asarray(outputs[4])), size=fine.shape[-2:], mode="nearest")
        fine = torch.cat([fine, coarse], dim=1)
    outputs[4] = fine.numpy()
    return tuple(outputs)


tracker_module.MultiTracker._network_step = _network_step_with_fine_appearance

_score = discriminative.TargetClassifier.score


def _pooled_score(self, features):
    answer = _score(self, features)
    if answer.shape[-1] == 20:
        pooled = torch.from_numpy(np.ascontiguousarray(answer))[None, None]
        pooled = F.max_pool2d(pooled, 2) if POOL == "max" else F.avg_pool2d(pooled, 2)
        return pooled[0, 0].numpy()
    return answer


discriminative.TargetClassifier.score = _pooled_score

if __name__ == "__main__":
    from viltrack_ros.training.experiment import main
    sys.exit(main(sys.argv[1:]))
