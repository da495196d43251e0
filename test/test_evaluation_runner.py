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
"""The evaluation runner on real frames: OpenCV peers, frame alignment, failures, output files, CLI."""
import hashlib
import json
import logging

import cv2
import numpy as np
import pytest
import torch

from viltrack_ros.data.sequences import (FrameStepSequence, frame_step_sequences, load_sequence_folders,
                                         restarted_sequences)
from viltrack_ros.evaluation.cli import DEFAULT_SEQUENCES, main
from viltrack_ros.evaluation.metrics import PERFECT_AUC
from viltrack_ros.evaluation.runner import evaluate, run_tracker, write_report
from viltrack_ros.evaluation.trackers import OpenCVTracker

cv2.setNumThreads(1)
torch.set_num_threads(1)

pytestmark = pytest.mark.skipif(not DEFAULT_SEQUENCES.is_dir(),
                                reason=f"real sequences not found at {DEFAULT_SEQUENCES}")
FRAMES = 25


@pytest.fixture(scope="module")
def crossing():
    return load_sequence_folders(DEFAULT_SEQUENCES, ["Crossing"])[0]


@pytest.fixture(scope="module")
def crossing_frames(crossing):
    return [crossing.read_frame(i) for i in range(FRAMES)]


class GroundTruthByImage:
    """
    Answers each frame with the ground truth of the image it is shown (looked up by content).

    It answers nothing for an image it does not know: it scores perfectly only if the runner hands over the right
    frame each time.
    """

    name = "by-image"

    def __init__(self, frames, boxes):
        self.boxes = {hashlib.sha1(f.tobytes()).hexdigest(): b for f, b in zip(frames, boxes)}

    def init(self, image_rgb, box):
        assert np.array_equal(box, self.boxes[hashlib.sha1(image_rgb.tobytes()).hexdigest()])

    def update(self, image_rgb):
        return self.boxes.get(hashlib.sha1(image_rgb.tobytes()).hexdigest())


class RaisesOnFrame(GroundTruthByImage):
    """The same, but raising on one frame: the runner must score that frame 0 and carry on."""

    name = "raises"

    def __init__(self, frames, boxes, bad_frame):
        super().__init__(frames, boxes)
        self.bad = hashlib.sha1(frames[bad_frame].tobytes()).hexdigest()

    def update(self, image_rgb):
        if hashlib.sha1(image_rgb.tobytes()).hexdigest() == self.bad:
            raise RuntimeError("simulated tracker bug")
        return super().update(image_rgb)


class CountsFramesElapsed(GroundTruthByImage):
    """The same, and told how many camera frames passed before each update (as ours is)."""

    name = "told"
    takes_frames_elapsed = True

    def __init__(self, frames, boxes):
        super().__init__(frames, boxes)
        self.frames_elapsed = []

    def update(self, image_rgb, frames_elapsed=1):
        self.frames_elapsed.append(frames_elapsed)
        return super().update(image_rgb)


def test_a_tracker_that_takes_it_is_told_the_frames_a_frame_step_skips(crossing):
    """Every 3rd frame, run from a later start: ours is told 3 per update; a peer's update(image) is unchanged."""
    stepped = restarted_sequences([FrameStepSequence(crossing, 3)], 2)
    assert [s.frames_elapsed(i) for s in stepped for i in (1, 2)] == [3, 3, 3, 3] and crossing.frames_elapsed(5) == 1
    assert FrameStepSequence(FrameStepSequence(crossing, 2), 3).frames_elapsed(1) == 6
    frames = [stepped[1].read_frame(i) for i in range(len(stepped[1]))]
    told, peer = CountsFramesElapsed(frames, stepped[1].boxes), GroundTruthByImage(frames, stepped[1].boxes)
    peer.name = "not told"
    report = evaluate([told, peer], [stepped[1]], progress=False)
    assert told.frames_elapsed == [3] * (len(frames) - 1)
    assert report.scores[("not told", stepped[1].name)].auc == pytest.approx(PERFECT_AUC)
    told_again = CountsFramesElapsed([crossing.read_frame(i) for i in range(FRAMES)], crossing.boxes[:FRAMES])
    evaluate([told_again], [crossing], max_frames=FRAMES, progress=False)
    assert told_again.frames_elapsed == [1] * (FRAMES - 1)


def test_irregular_steps_are_told_step_by_step_and_drawn_the_same_for_every_tracker(crossing):
    """A busy node's drops (each step 1 to 3 frames): ours is told each step; the steps are seeded by the name."""
    (irregular,) = frame_step_sequences([crossing], "1-3")
    again = frame_step_sequences([crossing], "1-3")[0]
    assert irregular.name == "Crossing/step1-3" and np.array_equal(irregular.boxes, again.boxes)
    steps = [irregular.frames_elapsed(i) for i in range(1, len(irregular))]
    assert set(steps) == {1, 2, 3} and sum(steps) == int(irregular._kept[-1])
    frames = [irregular.read_frame(i) for i in range(len(irregular))]
    told = CountsFramesElapsed(frames, irregular.boxes)
    evaluate([told], [irregular], progress=False)
    assert told.frames_elapsed == steps
    (later,) = restarted_sequences([irregular], 2)[1:]
    assert [later.frames_elapsed(i) for i in range(1, len(later))] == steps[-(len(later) - 1):]
    for wrong in ("0", "3-1", "two", "1-"):
        with pytest.raises(ValueError, match="frame step"):
            frame_step_sequences([crossing], wrong)


def test_csrt_tracks_a_real_sequence_with_finite_boxes(crossing, crossing_frames):
    run = run_tracker(OpenCVTracker("CSRT"), crossing_frames, crossing.boxes[:FRAMES], crossing.name)
    assert np.isfinite(run.boxes).all() and run.seconds > 0 and not run.errors
    height, width = crossing_frames[0].shape[:2]
    centres = run.boxes[:, :2] + run.boxes[:, 2:] / 2
    assert ((centres >= 0) & (centres <= [width, height])).all()


def test_runner_feeds_frames_in_order_and_scores_failures(crossing, crossing_frames, caplog):
    boxes = crossing.boxes[:FRAMES]
    with caplog.at_level(logging.WARNING):
        report = evaluate([GroundTruthByImage(crossing_frames, boxes), RaisesOnFrame(crossing_frames, boxes, 7),
                           OpenCVTracker("KCF")], [crossing], max_frames=FRAMES, progress=False)
    perfect = report.scores[("by-image", "Crossing")]
    assert perfect.auc == pytest.approx(PERFECT_AUC) and perfect.num_scored == FRAMES - 1
    broken = report.scores[("raises", "Crossing")]
    assert broken.num_failures == 1 and broken.auc == pytest.approx(PERFECT_AUC * (FRAMES - 2) / (FRAMES - 1))
    assert report.runs[("raises", "Crossing")].errors == ["frame 8: RuntimeError: simulated tracker bug"]
    assert "simulated tracker bug" in caplog.text
    # OpenCV's KCF reports failure on this clip (ok False, box 0,0,0,0): those frames get no box and IoU 0.
    kcf = report.runs[("KCF", "Crossing")]
    missing = ~np.isfinite(kcf.boxes).all(axis=1)
    assert report.scores[("KCF", "Crossing")].num_failures == int(missing.sum())
    assert report.means["by-image"].auc == pytest.approx(PERFECT_AUC)


def test_report_files(crossing, crossing_frames, tmp_path):
    report = evaluate([GroundTruthByImage(crossing_frames, crossing.boxes[:FRAMES]), OpenCVTracker("CSRT")],
                      [crossing], max_frames=FRAMES, progress=False)
    write_report(report, tmp_path)
    table = (tmp_path / "table.md").read_text()
    assert "| by-image | 0.952 | 1.000 |" in table and "| CSRT |" in table
    rows = (tmp_path / "results.csv").read_text().splitlines()
    assert rows[0].startswith("tracker,sequence,frames") and len(rows) == 1 + 2 * 2   # 2 trackers x (1 seq + MEAN)
    payload = json.loads((tmp_path / "results.json").read_text())
    assert payload["protocol"]["first_frame_scored"] is False and len(payload["per_sequence"]) == 2
    saved = np.loadtxt(tmp_path / "boxes" / "CSRT" / "Crossing.txt", delimiter=",")
    np.testing.assert_allclose(saved, report.runs[("CSRT", "Crossing")].boxes, atol=0.01)
    for name in ("mean_success.png", "mean_precision.png", "per_sequence/Crossing_success.png"):
        image = cv2.imread(str(tmp_path / name))
        assert image is not None and image.shape[0] > 100


def test_cli_runs_peers_and_reports_errors(tmp_path, capsys):
    out = tmp_path / "eval"
    assert main(["--only", "Crossing", "--max-frames", "10", "--no-ours", "--out", str(out), "--quiet",
                 "--no-plots"]) == 0
    assert "| CSRT |" in capsys.readouterr().out and (out / "results.json").is_file()
    assert main(["--only", "NoSuchSequence", "--no-ours", "--quiet"]) == 2
    assert "no sequence folder named NoSuchSequence" in capsys.readouterr().err
    assert main(["--only", "Crossing", "--weights", str(tmp_path / "missing.pt"), "--quiet"]) == 2
    assert "cannot load our tracker" in capsys.readouterr().err
    assert main(["--only", "Crossing", "--no-ours", "--no-peers", "--quiet"]) == 2


def test_cli_runs_our_tracker_from_a_checkpoint_and_labels_it_untrained(tmp_path, capsys):
    from viltrack_ros.model import build_model, get_preset
    from viltrack_ros.model.checkpoint import save_checkpoint
    weights = save_checkpoint(tmp_path / "fresh.pt", build_model(get_preset("vil_cpu")), trained=False)
    out = tmp_path / "eval"
    assert main(["--only", "Dudek", "--max-frames", "4", "--weights", str(weights), "--no-peers", "--out",
                 str(out), "--quiet", "--no-plots"]) == 0
    assert "ViLTrack (untrained)" in capsys.readouterr().out
    payload = json.loads((out / "results.json").read_text())
    assert payload["metadata"]["trained"] is False
    status = payload["mean"]["ViLTrack (untrained)"]["status"]      # ours reports a status: it is counted
    assert status["on_target"] + status["off_target"] == 3
    assert "on-target frames said LOST" in (out / "table.md").read_text()
    boxes = np.loadtxt(out / "boxes" / "ViLTrack__untrained_" / "Dudek.txt", delimiter=",")
    assert np.isfinite(boxes).all()


def test_the_runner_records_our_status_and_not_a_peers(crossing, crossing_frames):
    """
    Our tracker reports a status each frame; the report counts how far it can be trusted.

    OpenCV's trackers report none, so they get no status counts rather than made-up ones.
    """
    from viltrack_ros.evaluation.trackers import ViLTrackerAdapter
    report = evaluate([ViLTrackerAdapter.from_checkpoint(None), OpenCVTracker("CSRT")], [crossing],
                      max_frames=FRAMES, progress=False)
    ours = report.runs[("ViLTrack", "Crossing")]
    assert ours.tracking is not None and len(ours.tracking) == FRAMES and not ours.tracking[0]
    counts = report.status_counts("ViLTrack")
    assert counts.on_target + counts.off_target == FRAMES - 1
    assert counts.on_target - counts.lost_on_target == int(ours.tracking[1:].sum()) - counts.tracking_off_target
    assert report.status_counts("CSRT") is None and report.runs[("CSRT", "Crossing")].tracking is None


class TrackingByImage(GroundTruthByImage):
    """The same, saying TRACKING every frame: a run with no off-target frame, whose balanced accuracy is undefined."""

    name = "tracking-by-image"
    last_tracking = True


def test_results_json_is_strict_json_and_long_sequences_are_read_again_per_tracker(crossing, crossing_frames,
                                                                                   tmp_path, monkeypatch):
    from viltrack_ros.evaluation import runner
    from viltrack_ros.evaluation.runner import LazyFrames, decoded_frames, finite_or_null
    assert finite_or_null({"a": [1.0, float("nan")], "b": (float("inf"), 2), "c": "x"}) == {
        "a": [1.0, None], "b": [None, 2], "c": "x"}
    kept = decoded_frames(crossing, 5)
    assert isinstance(kept, list) and len(kept) == 5
    monkeypatch.setattr(runner, "FRAME_MEMORY_LIMIT", kept[0].nbytes * 4)     # room for 4 of the 5
    lazy = decoded_frames(crossing, 5)
    assert isinstance(lazy, LazyFrames) and len(lazy) == 5
    assert all(np.array_equal(lazy[i], kept[i]) for i in range(5)) and np.array_equal(lazy[-1], kept[4])
    with pytest.raises(IndexError):
        lazy[5]
    # Read again for each tracker, the frames still reach every tracker in order (by-image answers only the right
    # frame), and the undefined balanced accuracy is written as null, not as a bare NaN.
    report = evaluate([TrackingByImage(crossing_frames, crossing.boxes[:FRAMES])], [crossing], max_frames=5,
                      progress=False)
    assert report.means["tracking-by-image"].auc == pytest.approx(PERFECT_AUC)
    write_report(report, tmp_path, plots=False)

    def refuse(constant):
        raise AssertionError(f"{constant} in results.json")
    payload = json.loads((tmp_path / "results.json").read_text(), parse_constant=refuse)
    assert payload["mean"]["tracking-by-image"]["status"]["balanced_accuracy"] is None
