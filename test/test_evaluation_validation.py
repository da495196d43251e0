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
"""Dev-set validation used for checkpoint choice: runs on development sequences only."""
import pytest

from viltrack_ros.evaluation.validation import dev_auc_validator
from viltrack_ros.model.checkpoint import load_checkpoint


def test_dev_validator_scores_a_model_without_touching_its_state(sequences_root, small_checkpoint):
    model, _ = load_checkpoint(small_checkpoint)
    model.train()
    validate = dev_auc_validator(sequences_root, frames_per_sequence=3)
    auc = validate(model)
    assert 0.0 <= auc <= 1.0
    assert model.training and model.backbone.film.state.context is None   # evaluated on a copy


def test_dev_validator_is_off_without_sequences(tmp_path):
    assert dev_auc_validator(tmp_path / "absent") is None


def test_dev_validator_never_sees_heldout_sequences(sequences_root, monkeypatch):
    import viltrack_ros.evaluation.validation as validation
    loaded = []
    real = validation.load_sequence_folders
    monkeypatch.setattr(validation, "load_sequence_folders",
                        lambda root, names: loaded.extend(names) or real(root, names))
    dev_auc_validator(sequences_root, frames_per_sequence=2)
    from viltrack_ros.data.splits import load_data_splits
    splits = load_data_splits()
    assert loaded == list(splits.dev) and not set(loaded) & set(splits.heldout)
    with pytest.raises(ValueError):
        splits.check_not_heldout(["Crossing"])


def test_eval_cli_applies_tracker_settings_and_refuses_unknown_ones(sequences_root, small_checkpoint, tmp_path,
                                                                    capsys):
    from viltrack_ros.cli import main
    common = ["eval", "--sequences", str(sequences_root), "--only", "Dudek", "--max-frames", "3", "--no-peers",
              "--weights", str(small_checkpoint), "--no-plots", "--quiet", "--out", str(tmp_path)]
    assert main(common + ["--tracker-set", "window_influence=0.1",
                          "--tracker-set", "online_template_update=false"]) == 0
    report = next(tmp_path.glob("*.json")).read_text()
    assert '"window_influence": 0.1' in report and '"online_template_update": false' in report
    assert main(common + ["--tracker-set", "window_influense=0.1"]) == 2
    assert "unknown tracker settings: window_influense" in capsys.readouterr().err
    assert main(common + ["--tracker-set", "window_influence"]) == 2
    assert "--tracker-set: 'window_influence' is not KEY=VALUE" in capsys.readouterr().err


def test_eval_cli_tracks_every_nth_frame_with_frame_step(sequences_root, small_checkpoint, tmp_path):
    import json
    from viltrack_ros.cli import main
    assert main(["eval", "--sequences", str(sequences_root), "--only", "Dudek", "--frame-step", "4", "--no-peers",
                 "--weights", str(small_checkpoint), "--no-plots", "--quiet", "--out", str(tmp_path)]) == 0
    report = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert report["metadata"]["frame_step"] == 4
    assert "Dudek/step4" in json.dumps(report)
    assert main(["eval", "--sequences", str(sequences_root), "--only", "Dudek", "--frame-step", "0", "--no-peers",
                 "--weights", str(small_checkpoint), "--no-plots", "--quiet", "--out", str(tmp_path / "bad")]) == 2
