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
Average the weights of checkpoints of one training trajectory (a "model soup"), as tried in checkpoint_averages.md.

    python docs/experiments/tried/checkpoint_average.py OUT.pt IN1.pt IN2.pt [...]

Only checkpoints that continue one another (same initialisation) can be averaged meaningfully; the result keeps the
first one's config and training record, plus the list of what was averaged.
"""
import sys

import torch

from viltrack_ros.model.checkpoint import read_checkpoint


def main(out: str, *inputs: str) -> None:
    payloads = [read_checkpoint(path) for path in inputs]
    averaged = {}
    for name, tensor in payloads[0]["state_dict"].items():
        averaged[name] = (sum(p["state_dict"][name].float() for p in payloads) / len(payloads)
                          if tensor.is_floating_point() else tensor)
    result = {**payloads[0], "state_dict": averaged,
              "training": {**payloads[0].get("training", {}), "average_of": list(inputs)}}
    torch.save(result, out)
    print("wrote", out)


if __name__ == "__main__":
    main(*sys.argv[1:])
