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
"""Adapter from the data package's samplers to the training loop's batch layout."""
from __future__ import annotations


import torch

from ..data.sampler import SampleConfig, TrackingSampleDataset, build_default_sources
from ..data.sequences import load_dataset
from ..model.config import ModelConfig
from .config import StageConfig, TrainConfig
from viltrack_ros.log import get_logger

log = get_logger("viltrack.train")


class TrainingBatchDataset(torch.utils.data.Dataset):
    """Items as the trainer wants them: ``templates``, ``searches``, ``boxes``, ``visible`` (tensors only)."""

    def __init__(self, samples: TrackingSampleDataset):
        self.samples = samples

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = self.samples[index]
        return {"templates": item["template_images"], "searches": item["search_images"],
                "boxes": item["search_boxes"], "visible": item["search_visible"]}


_SOURCES_CACHE: dict = {}


def make_dataset(config: TrainConfig, stage: StageConfig, model_config: ModelConfig, seed: int) -> TrainingBatchDataset:
    """Return the dataset of one stage: ``stage.search_frames * stage.temporal_steps`` search frames per sample."""
    key = (str(config.sequences_folder()), tuple(sorted(config.data_sources.items())), repr(config.extra_datasets))
    if key not in _SOURCES_CACHE:     # loading sources reads annotation files: do it once per process
        extra = []
        for spec in config.extra_datasets:
            spec = dict(spec)
            extra.extend(load_dataset(spec.pop("kind"), spec.pop("root"), **spec))
        weights = dict(config.data_sources)
        _SOURCES_CACHE[key] = build_default_sources(
            config.sequences_folder(), use_dev_sequences=weights.get("dev", 0) > 0,
            use_synthetic=weights.get("synthetic", 0) > 0, use_static=weights.get("static", 0) > 0,
            weights=weights, extra_sequences=extra)
    sample_config = SampleConfig(template_size=model_config.template_size, search_size=model_config.search_size,
                                 num_templates=model_config.num_templates,
                                 num_search_frames=stage.search_frames * stage.temporal_steps)
    samples = TrackingSampleDataset(_SOURCES_CACHE[key], sample_config,
                                    samples_per_epoch=stage.steps * config.batch_size, seed=seed)
    return TrainingBatchDataset(samples)
