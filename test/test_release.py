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
                 "--no-ablation", "--starts", "2", "--dest", str(dest), "--out", str(tmp_path / "release")])
    assert code == 0
    card = (dest.parent / "MODEL_CARD.md").read_text()
    peers = ["CSRT", "KCF", "CSRT+hold", "KCF+hold", "Siamese EfficientNet-Lite0 (training-free)"]
    if find_nanotrack()[0] is not None:
        peers.append("NanoTrack v2")
    for name in peers:
        assert f"| {name} |" in card
    assert "In all: 12 samples" in card
    assert "- Against CSRT+hold: success AUC" in card        # the like-for-like peer: it keeps its last box too
    # The single run's sensitivity to the arithmetic: ours at another thread count (1, the run being at 2).
    assert "- The same weights and settings at 1 thread instead of 2: success AUC" in card
    _, info = load_checkpoint(dest)
    assert info["training"]["heldout_eval_other_threads"]["threads"] == 1
    assert set(info["training"]["heldout_eval"]) >= {"ViLTrack", *peers}
    # The steadier measure: every held-out sequence from a second start frame too, in the card and the record.
    restarts = info["training"]["heldout_eval_restarts"]
    heldout = info["training"]["heldout_sequences"]
    assert restarts["starts"] == 2 and restarts["runs"] == 2 * len(heldout)
    assert set(restarts) >= {"ViLTrack", *peers}
    assert "## Held-out evaluation from 2 start frames per sequence" in card
    for sequence in heldout:
        assert f"| {sequence} (2) |" in card
    assert (tmp_path / "release" / "heldout_restarts").is_dir()
    assert (dest.parent / "heldout_restarts.png").stat().st_size > 10_000 and "(heldout_restarts.png)" in card
    # The OTB run only, into the same report folder: the earlier run's bars stay out of the new card's folder.
    only_otb = tmp_path / "only_otb" / "viltrack_default.pt"
    assert main(["--weights", str(weights), "--sequences", str(sequences_root), "--max-frames", "3",
                 "--no-ablation", "--starts", "1", "--dest", str(only_otb), "--out", str(tmp_path / "release")]) == 0
    otb_card = (only_otb.parent / "MODEL_CARD.md").read_text()
    assert "start frames per sequence" not in otb_card and "heldout_restarts" not in otb_card
    assert not (only_otb.parent / "heldout_restarts.png").exists()
    assert "heldout_eval_restarts" not in load_checkpoint(only_otb)[1]["training"]


def test_the_restarts_section_averages_each_video_over_its_start_frames():
    from types import SimpleNamespace
    from viltrack_ros.training.release import restarts_section
    runs = ["Crossing", "Crossing@40", "Crossing@80", "Human3", "Human3@500"]
    auc = {("A", "Crossing"): 0.9, ("A", "Crossing@40"): 0.6, ("A", "Crossing@80"): 0.3,
           ("A", "Human3"): 0.2, ("A", "Human3@500"): 0.4,
           ("B", "Crossing"): 0.1, ("B", "Crossing@40"): 0.1, ("B", "Crossing@80"): 0.4,
           ("B", "Human3"): 1.0, ("B", "Human3@500"): 0.0}
    report = SimpleNamespace(trackers=["A", "B"], sequences=runs,
                             scores={key: SimpleNamespace(auc=value) for key, value in auc.items()},
                             means={"A": SimpleNamespace(auc=0.48, precision=0.5),
                                    "B": SimpleNamespace(auc=0.32, precision=0.25)})
    text = "\n".join(restarts_section(report, 3))
    assert "| A | 0.480 | 0.500 | 5 |" in text and "| B | 0.320 | 0.250 | 5 |" in text
    assert "| Crossing (3) | 0.600 | 0.200 |" in text
    assert "| Human3 (2) | 0.300 | 0.500 |" in text


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
