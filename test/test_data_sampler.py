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
"""Training samples: shapes, ranges, determinism, and boxes that map back to the source image."""
from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch

from viltrack_ros.data.sampler import (Clip, SampleConfig, SequenceSource,
                                       StaticImageSource, SyntheticSource, TrackingSampleDataset,
                                       build_default_sources, choose_clip_indices, make_training_sample)
from viltrack_ros.data.sequences import InMemorySequence, load_sequence_folders
from viltrack_ros.data.synthetic import PhotoLibrary, SyntheticConfig, procedural_texture
from viltrack_ros.evaluation.cli import DEFAULT_SEQUENCES
from viltrack_ros.model.inputs import IMAGENET_MEAN_01, IMAGENET_STD_01

cv2.setNumThreads(1)
torch.set_num_threads(1)

SMALL = SampleConfig(template_size=32, search_size=64, num_search_frames=3, max_gap=20)
NO_PHOTOMETRIC = replace(SMALL, brightness_jitter=0.0, contrast_jitter=0.0, saturation_jitter=0.0,
                         grayscale_probability=0.0)


def textured_sequence(num_frames: int = 30, absent=()) -> InMemorySequence:
    """Return a target (a bright square) sliding over a procedural texture; frames in ``absent`` have NaN boxes."""
    rng = np.random.default_rng(0)
    background = procedural_texture(rng, 120, 160)
    frames, boxes = [], []
    for i in range(num_frames):
        frame = background.copy()
        x, y = 20 + 2 * i, 30 + i
        frame[y:y + 20, x:x + 30] = (255, 255, 0)
        frames.append(frame)
        boxes.append([x, y, 30, 20] if i not in absent else [np.nan] * 4)
    return InMemorySequence(name="slide", frame_paths=(), boxes=np.array(boxes, float), frames=tuple(frames))


def synthetic_source() -> SyntheticSource:
    return SyntheticSource(SyntheticConfig(frame_size=(96, 128), num_frames=20), photos=PhotoLibrary([]))


def test_sample_shapes_dtypes_and_ranges():
    dataset = TrackingSampleDataset([(SequenceSource([textured_sequence()]), 1.0), (synthetic_source(), 1.0)],
                                    replace(SMALL, num_templates=2), samples_per_epoch=6, seed=0)
    assert len(dataset) == 6
    for index in range(6):
        item = dataset[index]
        assert item["template_images"].shape == (2, 3, 32, 32) and item["template_images"].dtype == torch.float32
        assert item["search_images"].shape == (3, 3, 64, 64)
        assert item["template_boxes"].shape == (2, 4) and item["search_boxes"].shape == (3, 4)
        assert item["search_visible"].dtype == torch.bool and item["search_visible"][0]
        boxes = item["search_boxes"][item["search_visible"]]
        assert ((boxes >= 0) & (boxes <= 1)).all() and (boxes[:, 2:] > 0).all()
        # Normalised pixels stay within what ImageNet normalisation of [0, 1] can produce.
        low = float(((0 - IMAGENET_MEAN_01) / IMAGENET_STD_01).min())
        high = float(((1 - IMAGENET_MEAN_01) / IMAGENET_STD_01).max())
        assert low - 1e-4 <= item["search_images"].min() and item["search_images"].max() <= high + 1e-4
    batch = next(iter(torch.utils.data.DataLoader(dataset, batch_size=3)))
    assert batch["search_images"].shape == (3, 3, 3, 64, 64) and len(batch["source"]) == 3


def test_same_seed_same_samples_new_epoch_new_samples():
    sources = [(SequenceSource([textured_sequence()]), 1.0), (synthetic_source(), 1.0)]
    first = TrackingSampleDataset(sources, SMALL, samples_per_epoch=4, seed=5)
    again = TrackingSampleDataset(sources, SMALL, samples_per_epoch=4, seed=5)
    for index in range(4):
        a, b = first[index], again[index]
        assert torch.equal(a["search_images"], b["search_images"]) and torch.equal(a["search_boxes"],
                                                                                   b["search_boxes"])
    other_seed = TrackingSampleDataset(sources, SMALL, samples_per_epoch=4, seed=6)
    assert not torch.equal(first[0]["search_boxes"], other_seed[0]["search_boxes"])


@pytest.mark.parametrize("flip", [0.0, 1.0])
def test_crop_boxes_map_back_to_the_image_boxes(flip):
    config = replace(NO_PHOTOMETRIC, horizontal_flip_probability=flip, scale_jitter_search=0.0)
    sequence = textured_sequence()
    rng = np.random.default_rng(1)
    compared = clipped = 0
    for _ in range(10):
        templates, searches = choose_clip_indices(rng, sequence.visible, 1, 3, 20, 3)
        clip = Clip("test", [sequence.read_frame(i) for i in templates], sequence.boxes[templates],
                    [sequence.read_frame(i) for i in searches], sequence.boxes[searches])
        sample = make_training_sample(clip, rng, config)
        assert sample.flipped == bool(flip)
        for boxes, transforms, image_boxes in ((sample.search_boxes, sample.search_transforms, clip.search_boxes),
                                               (sample.template_boxes, sample.template_transforms,
                                                clip.template_boxes)):
            for (cx, cy, w, h), transform, image_box in zip(boxes, transforms, image_boxes):
                if sample.flipped:
                    cx = 1 - cx
                size = transform.output_size
                back = transform.crop_to_image_box(((cx - w / 2) * size, (cy - h / 2) * size, w * size, h * size))
                # Expected: the image box cut to the part of the image the crop shows.
                x0, y0 = transform.origin
                x1, y1 = x0 + size / transform.scale, y0 + size / transform.scale
                left, top = max(image_box[0], x0), max(image_box[1], y0)
                right, bottom = min(image_box[0] + image_box[2], x1), min(image_box[1] + image_box[3], y1)
                np.testing.assert_allclose(back, [left, top, right - left, bottom - top], atol=1e-6)
                clipped += not np.allclose(back, image_box)
                compared += 1
    assert compared == 40 and clipped < compared   # mostly unclipped: the map is checked on whole boxes too


def test_crop_shows_the_target_under_its_box():
    """Denormalise a search crop: the pixels under the box are the yellow square, those far outside are not."""
    sequence = textured_sequence()
    dataset = TrackingSampleDataset([(SequenceSource([sequence]), 1.0)],
                                    replace(NO_PHOTOMETRIC, template_size=64, search_size=128),
                                    samples_per_epoch=5, seed=2)
    for index in range(5):
        sample = dataset.sample(index)
        for image, (cx, cy, w, h) in zip(sample.search_images, sample.search_boxes):
            rgb = (image.transpose(1, 2, 0) * IMAGENET_STD_01 + IMAGENET_MEAN_01) * 255
            rows = slice(int((cy - h / 4) * 128), int((cy + h / 4) * 128))
            inner = rgb[rows, int((cx - w / 4) * 128):int((cx + w / 4) * 128)]
            np.testing.assert_allclose(inner.reshape(-1, 3).mean(axis=0), [255, 255, 0], atol=3)


def test_clip_indices_are_ordered_within_gap_and_templates_visible():
    visible = np.ones(50, bool)
    visible[[10, 11, 30]] = False
    rng = np.random.default_rng(0)
    for _ in range(200):
        templates, searches = choose_clip_indices(rng, visible, 2, 4, max_gap=8, max_stride=3)
        assert all(0 < b - a <= 3 for a, b in zip(searches, searches[1:]))
        assert visible[searches[0]] and visible[templates].all()
        assert all(abs(t - searches[0]) <= 8 for t in templates)
    assert choose_clip_indices(rng, np.ones(3, bool), 1, 4, 10, 2) is None
    assert choose_clip_indices(rng, np.zeros(10, bool), 1, 1, 10, 2) is None


def test_absent_frames_in_clips_are_flagged():
    sequence = textured_sequence(absent=set(range(5, 30, 2)))
    dataset = TrackingSampleDataset([(SequenceSource([sequence]), 1.0)],
                                    replace(SMALL, num_search_frames=4, max_clip_stride=1), samples_per_epoch=10,
                                    seed=0)
    flags = torch.stack([dataset[i]["search_visible"] for i in range(10)])
    assert flags[:, 0].all() and not flags.all()
    hidden_boxes = torch.stack([item["search_boxes"][~item["search_visible"]].sum()
                                for item in (dataset[i] for i in range(10))])
    assert (hidden_boxes == 0).all()


def test_source_weights_decide_the_mix():
    real, synthetic = SequenceSource([textured_sequence()], name="real"), synthetic_source()
    only_real = TrackingSampleDataset([(real, 1.0), (synthetic, 0.0)], SMALL, samples_per_epoch=8, seed=0)
    assert all(only_real[i]["source"].startswith("real:") for i in range(8))
    mixed = TrackingSampleDataset([(real, 1.0), (synthetic, 1.0)], SMALL, samples_per_epoch=20, seed=0)
    names = {mixed[i]["source"].split(":")[0] for i in range(20)}
    assert names == {"real", "synthetic"}
    with pytest.raises(ValueError, match="source weights"):
        TrackingSampleDataset([(real, 0.0)], SMALL)


def test_static_source_and_config_validation(tmp_path):
    photo = tmp_path / "photo.png"
    cv2.imwrite(str(photo), procedural_texture(np.random.default_rng(4), 240, 320))
    dataset = TrackingSampleDataset([(StaticImageSource([photo]), 1.0)], SMALL, samples_per_epoch=3, seed=0)
    item = dataset[0]
    assert item["source"] == "static:photo.png" and item["search_images"].shape == (3, 3, 64, 64)
    with pytest.raises(ValueError, match="num_search_frames must be >= 1"):
        SampleConfig(num_search_frames=0)
    with pytest.raises(ValueError, match="unknown sample settings: search_sise"):
        SampleConfig.from_dict({"search_sise": 10})


@pytest.mark.skipif(not DEFAULT_SEQUENCES.is_dir(), reason=f"real sequences not found at {DEFAULT_SEQUENCES}")
def test_default_sources_use_only_development_sequences():
    sources = build_default_sources(DEFAULT_SEQUENCES, use_synthetic=False)
    dev = next(source for source, _ in sources if source.name == "dev")
    assert sorted(s.name for s in dev.sequences) == ["Diving", "Dudek", "Skiing", "uav123_wakeboard5",
                                                     "vot2015_bag"]
    heldout = load_sequence_folders(DEFAULT_SEQUENCES, ["Human3"])
    with pytest.raises(ValueError, match="held-out sequences must not be used.*Human3"):
        build_default_sources(DEFAULT_SEQUENCES, extra_sequences=heldout)
    sample = TrackingSampleDataset(sources, SMALL, samples_per_epoch=2, seed=0)[0]
    assert sample["search_images"].shape == (3, 3, 64, 64)
