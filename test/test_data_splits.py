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
"""The held-out split: its one home (config/data_splits.yaml) agrees with the rule fixed before evaluation."""
import pytest

from viltrack_ros.data.splits import holdout_rule, load_data_splits
from viltrack_ros.evaluation.cli import DEFAULT_SEQUENCES

ELEVEN = ["vot2015_ball1", "Crossing", "Diving", "DragonBaby", "Dudek", "Human3", "Skiing", "uav123_group2_2",
          "uav123_wakeboard5", "uav123_wakeboard7", "vot2015_bag"]


def test_rule_gives_the_agreed_lists():
    heldout, dev = holdout_rule(ELEVEN)
    assert heldout == ["Crossing", "DragonBaby", "Human3", "uav123_group2_2", "uav123_wakeboard7", "vot2015_ball1"]
    assert dev == ["Diving", "Dudek", "Skiing", "uav123_wakeboard5", "vot2015_bag"]


def test_split_file_matches_rule_and_is_disjoint():
    splits = load_data_splits()
    assert (list(splits.heldout), list(splits.dev)) == holdout_rule(ELEVEN)
    assert not set(splits.heldout) & set(splits.dev)
    assert splits.names("all") == sorted(ELEVEN, key=str.lower)


@pytest.mark.skipif(not DEFAULT_SEQUENCES.is_dir(), reason=f"real sequences not found at {DEFAULT_SEQUENCES}")
def test_split_covers_exactly_the_sequences_on_disk():
    on_disk = sorted(p.name for p in DEFAULT_SEQUENCES.iterdir() if (p / "groundtruth.txt").is_file())
    splits = load_data_splits()
    assert sorted(splits.heldout + splits.dev) == on_disk
    assert (list(splits.heldout), list(splits.dev)) == holdout_rule(on_disk)


def test_training_on_heldout_is_refused_and_bad_files_are_reported(tmp_path):
    splits = load_data_splits()
    splits.check_not_heldout(["Diving", "synthetic-3"])
    with pytest.raises(ValueError, match="held-out sequences must not be used.*Human3"):
        splits.check_not_heldout(["Diving", "Human3"])
    with pytest.raises(ValueError, match="unknown split 'test'"):
        splits.names("test")
    overlapping = tmp_path / "splits.yaml"
    overlapping.write_text("heldout: [a, b]\ndev: [b, c]\n")
    with pytest.raises(ValueError, match="in both 'heldout' and 'dev': b"):
        load_data_splits(overlapping)
    incomplete = tmp_path / "incomplete.yaml"
    incomplete.write_text("heldout: [a]\n")
    with pytest.raises(ValueError, match="expected lists 'heldout' and 'dev'"):
        load_data_splits(incomplete)
