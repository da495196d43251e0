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
"""Synthetic sequences: deterministic per seed, boxes inside the frame and exactly on the rendered target."""
from dataclasses import replace

import cv2
import numpy as np
import pytest

from viltrack_ros.data.static_pairs import make_static_clip, random_object_box
from viltrack_ros.data.synthetic import (OPENCV_DOC_IMAGE_DIR, PhotoLibrary, Sprite, SyntheticConfig,
                                         default_photo_library, find_background_images,
                                         generate_synthetic_sequence, procedural_texture)

cv2.setNumThreads(1)
SMALL = SyntheticConfig(frame_size=(120, 160), num_frames=12)


def test_same_seed_same_frames_and_boxes_other_seed_differs():
    first = generate_synthetic_sequence(7, SMALL)
    again = generate_synthetic_sequence(7, SMALL)
    other = generate_synthetic_sequence(8, SMALL)
    np.testing.assert_array_equal(first.boxes, again.boxes)
    for index in (0, 5, 11):
        np.testing.assert_array_equal(first.read_frame(index), again.read_frame(index))
    # Rendering out of order gives the same image: frames depend on (seed, index) only.
    np.testing.assert_array_equal(first.read_frame(5), generate_synthetic_sequence(7, SMALL).read_frame(5))
    assert not np.array_equal(first.read_frame(0), other.read_frame(0))


@pytest.mark.parametrize("seed", range(6))
def test_frames_are_rgb_and_boxes_lie_inside_the_frame(seed):
    sequence = generate_synthetic_sequence(seed, SMALL)
    height, width = SMALL.frame_size
    assert len(sequence) == SMALL.num_frames and sequence.boxes.shape == (SMALL.num_frames, 4)
    assert np.isfinite(sequence.boxes[0]).all()   # the first frame initialises a tracker
    frame = sequence.read_frame(0)
    assert frame.shape == (height, width, 3) and frame.dtype == np.uint8
    visible = sequence.boxes[sequence.visible]
    assert (visible[:, 2:] >= 1).all()
    assert (visible[:, 0] >= 0).all() and (visible[:, 1] >= 0).all()
    assert (visible[:, 0] + visible[:, 2] <= width).all() and (visible[:, 1] + visible[:, 3] <= height).all()
    # Frames whose box is NaN are those where too little of the target shows.
    hidden = ~sequence.visible
    assert (sequence.visible_fraction[hidden] < SMALL.min_visible_fraction).all()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_box_is_the_extent_of_the_rendered_target(seed):
    """
    Render the scene twice, with the target painted flat grey and flat black.

    Everything else cancels in the difference, which is the target's rendered alpha; the box must enclose its > 0.5
    part within a pixel.
    """
    config = replace(SMALL, occlusion_probability=0.0, illumination_change=0.0, noise_std_range=(0.0, 0.0))
    sequence = generate_synthetic_sequence(seed, config)
    scene = sequence.scene
    grey = replace(scene, target=Sprite(rgb=np.full_like(scene.target.rgb, 100.0), alpha=scene.target.alpha))
    black = replace(scene, target=Sprite(rgb=np.zeros_like(scene.target.rgb), alpha=scene.target.alpha))
    checked = 0
    for index in np.flatnonzero(sequence.visible):
        difference = (grey.render(index).astype(int) - black.render(index).astype(int)).max(axis=2)
        ys, xs = np.nonzero(difference > 0.5 * difference.max())
        box = sequence.boxes[index]
        np.testing.assert_allclose([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1],
                                   [box[0], box[1], box[0] + box[2], box[1] + box[3]], atol=1.0,
                                   err_msg=f"frame {index}")
        checked += 1
    assert checked >= len(sequence) // 2


def test_procedural_fallback_when_no_photos_and_textures_are_not_flat(caplog):
    with caplog.at_level("WARNING"):
        empty = PhotoLibrary([])
    assert "no background photos found" in caplog.text
    sequence = generate_synthetic_sequence(0, SMALL, photos=empty)
    assert sequence.read_frame(3).std() > 5
    texture = procedural_texture(np.random.default_rng(0), 32, 48)
    assert texture.shape == (32, 48, 3) and texture.dtype == np.uint8


@pytest.mark.skipif(not OPENCV_DOC_IMAGE_DIR.is_dir(), reason="Debian's opencv-doc photos are not installed")
def test_opencv_doc_photos_are_found_and_non_photos_skipped():
    paths = find_background_images()
    names = {p.stem for p in paths}
    assert len(paths) >= 20
    assert "baboon" in names and "chessboard" not in names and "left05" not in names
    assert len(default_photo_library()) == len(paths)


def test_static_clip_follows_the_camera_shift():
    """
    The static clip follows a pure shift of the photo (no zoom, roll, blur or brightness change).

    The patch under the box in the last frame is the patch under the box in the first.
    """
    rng = np.random.default_rng(3)
    image = procedural_texture(rng, 200, 260)
    clip = make_static_clip(rng, image, 4, box=np.array([90.0, 70.0, 50.0, 40.0]), max_zoom=0.0,
                            max_roll_deg=0.0, brightness=0.0, blur_probability=0.0, max_shift=0.05)
    np.testing.assert_array_equal(clip.read_frame(0), image)
    first, last = clip.boxes[0], clip.boxes[-1]
    np.testing.assert_allclose(last[2:], first[2:], atol=1e-6)
    assert np.abs(last[:2] - first[:2]).max() > 1.0   # it did move
    x, y = np.round(last[:2]).astype(int)
    moved = clip.read_frame(3)[y:y + 40, x:x + 50].astype(np.float32)
    original = image[70:110, 90:140].astype(np.float32)
    correlation = np.corrcoef(moved.ravel(), original.ravel())[0, 1]
    assert correlation > 0.9


def test_random_object_box_lies_inside_the_photo():
    rng = np.random.default_rng(0)
    image = procedural_texture(rng, 90, 120)
    for _ in range(20):
        x, y, w, h = random_object_box(rng, image)
        assert x >= 0 and y >= 0 and w >= 4 and h >= 4 and x + w <= 120 and y + h <= 90
