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
"""Training configuration, read from ``config/train/<name>.yaml``: the one home of training settings."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from ..paths import default_sequences_root, project_root
from ..settings import dataclass_from_dict


@dataclass
class StageConfig:
    """
    A stretch of training with one sample layout.

    ``search_frames`` (K) frames form one token sequence (the mLSTM memory runs across them);
    ``temporal_steps`` consecutive forward passes share the FiLM context (detached between steps), so the
    FiLM layers learn to use a context from an earlier step.
    """

    name: str = "pairs"
    steps: int = 1000
    search_frames: int = 1
    temporal_steps: int = 1
    freeze_shared_experts: bool = False     # phase 2 of the TMoE recipe

    def __post_init__(self):
        for name in ("steps", "search_frames", "temporal_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"stage {self.name}: {name} must be >= 1, got {getattr(self, name)}")


@dataclass
class TrainConfig:
    name: str = "experiment"
    seed: int = 1
    preset: str = "vil_cpu"
    model_overrides: dict = field(default_factory=dict)
    stages: list[StageConfig] = field(default_factory=lambda: [StageConfig()])
    batch_size: int = 16
    lr: float = 4e-4
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05
    min_lr_ratio: float = 0.05
    grad_clip: float = 1.0
    amp: str = "auto"                       # auto (bf16 on CUDA, off on CPU) | on | off
    loss_weights: dict = field(default_factory=lambda: {"focal": 1.0, "giou": 2.0, "l1": 5.0})
    # Data: mixture weights per source, and where the real sequences are.
    data_sources: dict = field(default_factory=lambda: {"dev": 1.0, "synthetic": 2.0, "static": 1.0})
    sequences_root: str | None = None       # None: paths.default_sequences_root(); relative to the project root
    # The shared sequences' split that the "dev" source trains on: only "dev" (held-out sequences are only scored).
    sequence_split: str = "dev"
    extra_datasets: list = field(default_factory=list)   # [{kind: got10k|lasot|trackingnet, root: ..., weight: ...}]
    num_workers: int = 1
    log_every: int = 20
    checkpoint_every: int = 200
    val_every: int = 0                      # 0 = no validation on dev sequences during training
    val_frames_per_sequence: int = 60
    threads: int = 0                        # torch intra-op threads; 0 = torch's default
    # torch.compile the model: about 3x faster steps on CPU after a few minutes of compilation per sample layout.
    compile: bool = False

    def __post_init__(self):
        # Checked here, not at the step they would divide by: a zero log_every failed after the first step.
        for name in ("batch_size", "log_every", "checkpoint_every", "val_frames_per_sequence"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("val_every", "num_workers", "threads"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.stages:
            raise ValueError("stages must name at least one stage")
        if self.sequence_split != "dev":
            # It was read nowhere: the dev source trains on the development sequences whatever it said, and a
            # held-out-like name ("Heldout", "all") passed unnoticed.
            raise ValueError(f"sequence_split must be 'dev' (the development sequences; held-out sequences are "
                             f"never trained on), got {self.sequence_split!r}")

    @property
    def total_steps(self) -> int:
        return sum(stage.steps for stage in self.stages)

    def sequences_folder(self) -> Path:
        """Return the real sequences' folder, the same from whatever directory training is started."""
        if self.sequences_root is None:
            return default_sequences_root()
        return project_root() / self.sequences_root   # an absolute sequences_root stays as it is

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        data = dict(data)
        if "stages" in data:
            data["stages"] = [dataclass_from_dict(StageConfig, stage, f"settings in stage {i}")
                              for i, stage in enumerate(data["stages"])]
        return dataclass_from_dict(cls, data, "training settings")

    @classmethod
    def from_yaml(cls, path: str | Path) -> "TrainConfig":
        path = Path(path)
        try:
            with open(path) as f:
                data = yaml.safe_load(f) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{path} is not valid YAML: {exc}") from None
        try:
            return cls.from_dict(data)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from exc
