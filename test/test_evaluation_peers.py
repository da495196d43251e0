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
The reference trackers: NanoTrack v2 appears beside CSRT/KCF when its files exist.

When they do not, it is skipped with a printed reason.
"""

import numpy as np
import pytest

from viltrack_ros.evaluation.metrics import box_iou
from viltrack_ros.evaluation.trackers import NanoTrackTracker, find_nanotrack, peer_trackers
from viltrack_ros.model.nanotrack_stem import DEFAULT_NANOTRACK_DIR


@pytest.fixture(scope="module")
def nanotrack_dir():
    folder, reason = find_nanotrack()
    if folder is None:
        pytest.skip(reason)
    return folder


def test_missing_nanotrack_files_give_a_reason_not_a_tracker(tmp_path):
    folder, reason = find_nanotrack(tmp_path)
    assert folder is None
    assert "NanoTrack v2 skipped" in reason and str(tmp_path) in reason
    trackers, skipped = peer_trackers("CSRT,NanoTrack", nanotrack_dir=tmp_path)
    assert [t.name for t in trackers] == ["CSRT"]
    assert skipped == [reason]


def test_nanotrack_absent_is_skipped_with_the_folder_it_looked_in(tmp_path, monkeypatch):
    # Where the default folder is, from an installed copy too, is paths.project_root's concern (test_paths.py).
    import viltrack_ros.evaluation.trackers as trackers
    import viltrack_ros.model.nanotrack_stem as nanotrack_files
    monkeypatch.delenv("VILTRACK_NANOTRACK_DIR", raising=False)
    monkeypatch.setattr(nanotrack_files, "DEFAULT_NANOTRACK_DIR", tmp_path / "nowhere")
    folder, reason = trackers.find_nanotrack()
    assert folder is None and str(tmp_path / "nowhere") in reason and "--nanotrack DIR" in reason


def test_an_opencv_without_the_contrib_trackers_skips_them_with_the_reason(monkeypatch):
    """Plain opencv-python (a lent GPU machine's, say) has no CSRT or KCF: skipped and said, NanoTrack still runs."""
    import cv2
    for module in (cv2, getattr(cv2, "legacy", None)):
        for name in ("TrackerCSRT_create", "TrackerKCF_create"):
            if module is not None and hasattr(module, name):
                monkeypatch.delattr(module, name)
    trackers, skipped = peer_trackers("CSRT,KCF")
    assert trackers == []
    assert [reason.split(":")[0] for reason in skipped] == ["CSRT skipped", "KCF skipped"]
    assert all("install opencv-contrib-python" in reason for reason in skipped), skipped


def test_unknown_peer_is_refused():
    with pytest.raises(ValueError, match="unknown peer tracker .*NanoTrack"):
        peer_trackers("MOSSE2")


def test_nanotrack_tracks_a_real_sequence(nanotrack_dir, sequences_root):
    from viltrack_ros.data.sequences import load_sequence_folder
    sequence = load_sequence_folder(sequences_root / "vot2015_bag")
    tracker = NanoTrackTracker(nanotrack_dir)
    tracker.init(sequence.read_frame(0), sequence.boxes[0])
    ious = []
    for index in range(1, 20):
        box = tracker.update(sequence.read_frame(index))
        ious.append(0.0 if box is None else float(box_iou(box[None], sequence.boxes[index][None])[0]))
    assert np.mean(ious) > 0.5


def test_eval_cli_prints_the_nanotrack_row(nanotrack_dir, sequences_root, tmp_path, capsys):
    from viltrack_ros.evaluation.cli import main
    code = main(["--sequences", str(sequences_root), "--only", "vot2015_bag", "--max-frames", "6", "--no-ours",
                 "--no-plots", "--quiet", "--out", str(tmp_path / "eval")])
    assert code == 0
    printed = capsys.readouterr().out
    for row in ("| CSRT |", "| KCF |", "| NanoTrack v2 |"):
        assert row in printed


def test_eval_cli_says_why_nanotrack_is_missing(sequences_root, tmp_path, capsys):
    from viltrack_ros.evaluation.cli import main
    code = main(["--sequences", str(sequences_root), "--only", "vot2015_bag", "--max-frames", "4", "--no-ours",
                 "--no-plots", "--quiet", "--nanotrack", str(tmp_path), "--out", str(tmp_path / "eval")])
    assert code == 0
    printed = capsys.readouterr().out
    assert "NanoTrack v2 skipped" in printed and "| NanoTrack v2 |" not in printed
    assert "| CSRT |" in printed


def test_default_nanotrack_location_is_beside_the_checkout():
    assert DEFAULT_NANOTRACK_DIR.parts[-3:] == ("shared", "models", "nanotrack_v2")
