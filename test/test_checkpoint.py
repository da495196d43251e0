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
"""Checkpoint files: round trip, and clear failures on missing, corrupt and mismatched files."""
import pickle

import pytest
import torch

from viltrack_ros.model import ModelConfig, build_model
from viltrack_ros.model.checkpoint import (FORMAT_VERSION, CheckpointError, default_weights_path, load_checkpoint,
                                           save_checkpoint)

TINY = ModelConfig(name="tiny", dim=32, depth=2, template_size=32, search_size=64, film_interval=2,
                   tmoe_blocks=1, num_experts=2, mlp_ratio=2.0, head_channels=16)


def test_round_trip_keeps_weights_config_and_trained_flag(tmp_path):
    torch.manual_seed(0)
    model = build_model(TINY)
    path = save_checkpoint(tmp_path / "m.pt", model, trained=False, training={"note": "fresh"})
    loaded, info = load_checkpoint(path)
    assert loaded.config == TINY
    assert info["trained"] is False and info["training"] == {"note": "fresh"}
    assert info["format_version"] == FORMAT_VERSION
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name


def test_half_precision_file_loads_as_float32(tmp_path):
    model = build_model(TINY)
    path = save_checkpoint(tmp_path / "half.pt", model, trained=True, half_precision=True)
    loaded, info = load_checkpoint(path)
    assert info["trained"] is True
    weight = loaded.backbone.patch_embed.proj.weight
    assert weight.dtype == torch.float32
    assert torch.allclose(weight, model.backbone.patch_embed.proj.weight, atol=1e-3)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "nope.pt")


def test_corrupt_file(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", build_model(TINY), trained=False)
    data = path.read_bytes()
    (tmp_path / "truncated.pt").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.pt").write_bytes(b"this is not a checkpoint")
    pickle_of_objects = tmp_path / "objects.pt"
    with open(pickle_of_objects, "wb") as handle:
        pickle.dump({"a": object()}, handle, protocol=4)
    for name in ("truncated.pt", "garbage.pt", "objects.pt"):
        with pytest.raises(CheckpointError, match="corrupt") as raised:
            load_checkpoint(tmp_path / name)
        # One line that says why, not torch's paragraph on weights_only defaults.
        message = str(raised.value)
        assert "\n" not in message and "PyTorch 2.6" not in message and len(message) < 400, message
    with pytest.raises(CheckpointError, match="unpickler refused it: Unsupported operand"):
        load_checkpoint(pickle_of_objects)
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="is empty"):
        load_checkpoint(tmp_path / "empty.pt")


def test_foreign_and_wrong_version_files(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a viltrack-checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    payload = torch.load(save_checkpoint(tmp_path / "m.pt", build_model(TINY), trained=False), weights_only=True)
    payload["format_version"] = 99
    torch.save(payload, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="format version 99"):
        load_checkpoint(tmp_path / "future.pt")


def test_config_shape_mismatch_is_named(tmp_path):
    payload = torch.load(save_checkpoint(tmp_path / "m.pt", build_model(TINY), trained=False), weights_only=True)
    payload["model_config"]["dim"] = 64          # the weights are dim 32
    torch.save(payload, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError, match="do not match the config"):
        load_checkpoint(tmp_path / "mismatch.pt")
    payload["model_config"]["dim"] = 32
    payload["model_config"]["unknown_key"] = 1
    torch.save(payload, tmp_path / "badkey.pt")
    with pytest.raises(CheckpointError, match="invalid model config"):
        load_checkpoint(tmp_path / "badkey.pt")


def test_shipped_default_weights_load_when_present():
    path = default_weights_path()
    if not path.exists():
        pytest.skip(f"no shipped weights at {path}")
    model, info = load_checkpoint(path)
    assert path.stat().st_size <= 50 * 1024 * 1024
    assert info["trained"] is True, "the shipped default must be a trained model"
