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
"""The release tool: one held-out run with every peer, then the weights and a regenerated model card."""
import torch

from viltrack_ros.model.checkpoint import load_checkpoint, save_checkpoint
from viltrack_ros.model.network import build_model


def test_release_writes_weights_and_a_card_with_every_peer(sequences_root, tmp_path):
    from conftest import SMALL_CONFIG
    from viltrack_ros.evaluation.trackers import find_nanotrack
    from viltrack_ros.training.release import main
    torch.manual_seed(0)
    record = {"recipe": "test", "description": "a tiny network for this test", "steps": 1, "samples": 4,
              "batch_size": 4, "wall_time_s": 1.0, "hardware": "test", "torch": "x", "trainable_parameters": 10,
              "data": {"frames": 1, "sequences": ["a"], "train_root": "x", "pairs": {}},
              "earlier_training": [{"recipe": "before", "steps": 2, "batch_size": 4, "samples": 8,
                                    "wall_time_s": 2.0, "hardware": "test"}]}
    weights = save_checkpoint(tmp_path / "trained.pt", build_model(SMALL_CONFIG), trained=True, training=record)
    dest = tmp_path / "shipped" / "viltrack_default.pt"
    code = main(["--weights", str(weights), "--sequences", str(sequences_root), "--max-frames", "3",
                 "--no-ablation", "--dest", str(dest), "--out", str(tmp_path / "release")])
    assert code == 0
    card = (dest.parent / "MODEL_CARD.md").read_text()
    peers = ["CSRT", "KCF", "Siamese EfficientNet-Lite0 (training-free)"]
    if find_nanotrack()[0] is not None:
        peers.append("NanoTrack v2")
    for name in peers:
        assert f"| {name} |" in card
    assert "In all: 12 samples" in card
    _, info = load_checkpoint(dest)
    assert set(info["training"]["heldout_eval"]) >= {"ViLTrack", *peers}


def test_release_refuses_an_untrained_checkpoint(small_checkpoint, tmp_path):
    from viltrack_ros.training.release import main
    assert main(["--weights", str(small_checkpoint), "--dest", str(tmp_path / "w.pt")]) == 2


def test_the_card_names_report_folders_inside_the_checkout_relative_to_it(tmp_path):
    from pathlib import Path
    from viltrack_ros.data.splits import REPO_ROOT
    from viltrack_ros.training.release import _shown_path
    assert _shown_path(REPO_ROOT / "outputs" / "release" / "heldout") == Path("outputs/release/heldout")
    assert _shown_path(tmp_path / "heldout") == tmp_path / "heldout"      # elsewhere: as given


def test_the_card_sets_the_online_template_settings_apart_for_a_one_template_model():
    from viltrack_ros.training.release import ONLINE_TEMPLATE_SETTINGS, settings_text
    from viltrack_ros.tracking import TrackerConfig
    one, two = settings_text(1), settings_text(2)
    for name in TrackerConfig().to_dict():
        assert name in one and name in two
    listed, _, apart = one.partition(";")
    assert all(name not in listed and name in apart for name in ONLINE_TEMPLATE_SETTINGS)
    assert f"window_influence {TrackerConfig().window_influence}" in listed and "do nothing" in apart
    assert ";" not in two
