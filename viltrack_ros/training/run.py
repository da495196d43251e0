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
"""``viltrack train``: read the YAML config, train, export the checkpoint, print where everything went."""
from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

from .config import TrainConfig
from .trainer import Trainer
from viltrack_ros.log import get_logger

log = get_logger("viltrack.train")


def scale_steps(config: TrainConfig, total_steps: int) -> TrainConfig:
    """Shrink/grow every stage proportionally to ``total_steps`` in all (for smoke runs and quick tests)."""
    factor = total_steps / max(1, config.total_steps)
    stages = [replace(s, steps=max(1, math.floor(s.steps * factor))) for s in config.stages]
    return replace(config, stages=stages)


def make_validator(config: TrainConfig):
    """Dev-sequence AUC (never held-out sequences) for checkpoint choice, or None where it cannot run."""
    if not config.val_every:
        return None
    if config.data_sources.get("dev", 0) > 0:
        log.warning("best.pt is chosen by AUC on the development sequences this run also trains on: an optimistic "
                    "choice (model.pt, the last step's weights, is not chosen at all); the experiment harness "
                    "(viltrack experiment) chooses on the pre-cropped val split, which no arm trains on")
    from ..evaluation.validation import dev_auc_validator
    return dev_auc_validator(config.sequences_folder(), frames_per_sequence=config.val_frames_per_sequence)


def run_training(args) -> int:
    config = TrainConfig.from_yaml(args.config)
    if getattr(args, "steps", None):
        config = scale_steps(config, args.steps)
    out_dir = Path(args.out or Path("runs") / config.name)
    trainer = Trainer(config, out_dir, device=args.device, resume=args.resume,
                      init_weights=getattr(args, "init_weights", None))
    path = trainer.train(validate=make_validator(config))
    if trainer.ctx.is_main:
        print(f"model: {path}\nlog: {out_dir / 'log.csv'}\nloss curve: {out_dir / 'loss_curve.png'}")
    trainer.ctx.close()
    return 0
