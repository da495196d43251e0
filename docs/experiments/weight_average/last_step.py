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
Write an averaged arm's last-step weights (not the average) as a checkpoint of their own.

This lets the two be scored side by side: the same training run, the average the only difference.

    python docs/experiments/weight_average/last_step.py outputs/weight_average/b2_distractors_continued_averaged
    # -> <arm>/last_step.pt
"""
import argparse
from pathlib import Path

import torch

from viltrack_ros.model.checkpoint import load_checkpoint, save_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("arm_dir", type=Path, help="an arm's output folder (model.pt and state.pt)")
    arm_dir = parser.parse_args().arm_dir
    model, info = load_checkpoint(arm_dir / "model.pt")
    state = torch.load(arm_dir / "state.pt", weights_only=False, map_location="cpu")
    model.load_state_dict(state["model"])
    training = {k: v for k, v in info["training"].items() if k != "weight_average_decay"}
    training["recipe"] = f"{training['recipe']} (last step, not averaged)"
    path = save_checkpoint(arm_dir / "last_step.pt", model, trained=True, training=training)
    print(f"{path}: the weights at step {state['step']}")


if __name__ == "__main__":
    main()
