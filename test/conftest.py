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
"""Shared fixtures: a small real checkpoint file, and the real sequences when this machine has them."""
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from viltrack_ros.model import ModelConfig, build_model
from viltrack_ros.model.checkpoint import save_checkpoint

from viltrack_ros.data.splits import DEFAULT_SEQUENCES_ROOT as SEQUENCES_ROOT

# ONNX exports of the checkpoints under test (tracking.backends) are cached in the repository's outputs/, not in
# the user's home; node processes started by the tests inherit this.
os.environ.setdefault("VILTRACK_ONNX_CACHE", str(Path(__file__).resolve().parents[1] / "outputs" / "onnx_cache"))

REPO_ROOT = Path(__file__).resolve().parents[1]


def tracked_files(*paths: str) -> list[str]:
    """
    Return the files git tracks (under ``paths``, or all), relative to the repository root.

    Empty outside a git checkout (a copy of the sources, or no git on this machine): the tests that read them skip.
    """
    import subprocess
    try:
        result = subprocess.run(["git", "ls-files", *paths], cwd=REPO_ROOT, capture_output=True, text=True,
                                timeout=60)
    except OSError:   # no git on this machine
        return []
    return result.stdout.split() if result.returncode == 0 else []


# Small enough to run fast on 2 CPU cores, with every part of the design (FiLM, TMoE, 2 templates).
SMALL_CONFIG = ModelConfig(name="test_small", dim=32, depth=4, patch_size=16, template_size=32, search_size=64,
                           num_templates=2, film_interval=2, tmoe_blocks=1, num_experts=2, mlp_ratio=2.0,
                           head_channels=16, drop_path_rate=0.0)


@pytest.fixture(scope="session", autouse=True)
def _few_threads():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def small_checkpoint(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    return save_checkpoint(tmp_path_factory.mktemp("weights") / "small.pt", build_model(SMALL_CONFIG),
                           trained=False, training={"note": "random init for tests"})


@pytest.fixture(scope="session")
def sequences_root() -> Path:
    if not SEQUENCES_ROOT.is_dir():
        pytest.skip(f"real sequences not found at {SEQUENCES_ROOT}")
    return SEQUENCES_ROOT


@pytest.fixture(scope="session")
def sequence_frames(sequences_root):
    """
    Give a function that returns the first ``count`` RGB frames of a real sequence, and their boxes.

    It is called as ``sequence_frames(name, count)``.
    """
    from viltrack_ros.data.sequences import load_sequence_folder

    def first_frames(name: str, count: int) -> tuple[list[np.ndarray], np.ndarray]:
        sequence = load_sequence_folder(sequences_root / name)
        return [sequence.read_frame(i) for i in range(count)], sequence.boxes[:count]
    return first_frames


@pytest.fixture(scope="session")
def shipped_model():
    """Give the package's shipped network (real weights), in eval mode; tests that change it work on a copy."""
    from viltrack_ros.model.checkpoint import load_checkpoint
    model, _ = load_checkpoint(None)
    return model.eval()


def read_rgb(path) -> np.ndarray:
    from viltrack_ros.data.sequences import read_image_rgb
    return read_image_rgb(path)
