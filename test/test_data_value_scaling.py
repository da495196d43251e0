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
ValueScaling (16-bit, signed and floating-point values to grey levels) and FrameSource's 16-bit frames, without ROS.

The node's message decoding through it: test/ros/test_ros_image_conversion.py. Expected values are computed here from
the definitions, not by the code under test.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from viltrack_ros.data.frame_source import FrameSource
from viltrack_ros.data.value_scaling import SIXTEEN_BIT_MAX, ValueScaling

RNG = np.random.default_rng(11)


def test_the_default_reads_16_bits_over_their_whole_range_as_cv_bridge_does():
    values = np.array([[0, 128, 129, 257, 32767, 65535]], np.uint16)
    np.testing.assert_array_equal(ValueScaling().to_uint8(values), np.rint(values / 257.0))
    with pytest.raises(ValueError, match="no range of their own"):
        ValueScaling().to_uint8(np.zeros((2, 2), np.float32))
    eight = RNG.integers(0, 256, (3, 4, 3)).astype(np.uint8)
    assert ValueScaling((10, 20)).to_uint8(eight) is eight


def test_a_range_maps_linearly_and_clips_with_nan_black_and_inf_white():
    depth = np.array([[0.5, 2.5, 4.5, 6.0, 0.1, np.nan, np.inf, -np.inf]], np.float32)
    np.testing.assert_array_equal(ValueScaling((0.5, 4.5)).to_uint8(depth), [[0, 128, 255, 255, 0, 0, 255, 0]])


def test_an_automatic_range_follows_the_scene_without_jumping():
    # Half the scene at 100, half at 200: the 1st and 99th percentiles are 100 and 200.
    scene = np.full((16, 32), 100, np.uint16)
    scene[:, 16:] = 200
    scaling = ValueScaling(auto=True)
    first = scaling.to_uint8(scene)
    assert first[0, 0] == 0 and first[0, 31] == 255
    # The whole scene warms by 100 counts: the range moves a tenth of the way (100-200 -> 110-210), so the image
    # brightens instead of the range jumping to 200-300 (which would show the same image as before).
    warmer = scaling.to_uint8(scene + 100)
    assert warmer[0, 0] == pytest.approx((200 - 110) * 255 / 100, abs=1) and warmer[0, 31] == 255
    fresh = ValueScaling(auto=True).to_uint8(scene + 100)
    assert fresh[0, 0] == 0 and fresh[0, 31] == 255
    # A uniform image (every value equal) is one grey level, black, with no division by zero (the bounds stay apart);
    # no finite value at all is black too.
    assert np.all(ValueScaling(auto=True).to_uint8(np.full((8, 8), 5000, np.uint16)) == 0)
    assert np.all(ValueScaling(auto=True).to_uint8(np.full((8, 8), np.nan, np.float32)) == 0)


@pytest.mark.parametrize("height,width", [(64, 96), (480, 640), (1080, 1920)])
def test_the_percentiles_read_every_site_of_a_2x2_pattern_at_any_size(height, width):
    # A Bayer mosaic's sites (red 1000-2000, green 20000-30000, blue 40000-50000): a sample of one site per 2x2 cell
    # would take the range from that colour alone.
    mosaic = np.empty((height, width), np.uint16)
    sites = {(0, 0): (1000, 2000), (0, 1): (20000, 30000), (1, 0): (20000, 30000), (1, 1): (40000, 50000)}
    for (row, column), (low, high) in sites.items():
        mosaic[row::2, column::2] = RNG.integers(low, high, (height // 2, width // 2))
    levels = ValueScaling(auto=True).to_uint8(mosaic).astype(float)
    assert levels[0::2, 0::2].mean() < 30 and 100 < levels[0::2, 1::2].mean() < 160 and levels[1::2, 1::2].mean() > 220


def test_wide_types_keep_their_levels_apart():
    # int32 values far from zero and float64 ones with a narrow range: float32 arithmetic would merge their levels.
    counts = (100_000_000 + np.arange(101)).astype(np.int32).reshape(1, 101)
    assert len(np.unique(ValueScaling((100_000_000, 100_000_100)).to_uint8(counts))) == 101
    seconds = (1e9 + np.linspace(0.0, 1.0, 51)).reshape(1, 51)
    assert len(np.unique(ValueScaling((1e9, 1e9 + 1.0)).to_uint8(seconds))) == 51
    extreme = ValueScaling((-1e39, 1e39)).to_uint8(np.array([[-1e38, 0.0, 1e38]], np.float32))
    np.testing.assert_array_equal(extreme, [[115, 128, 140]])   # (v + 1e39) * 255 / 2e39, rounded


def test_the_whole_range_notes_an_image_that_uses_a_small_part_of_it():
    scaling = ValueScaling()
    scaling.to_uint8(np.zeros((16, 16), np.uint16))
    assert scaling.narrow_range is None, "a black start-up frame says nothing about the camera's range"
    scaling.to_uint8(RNG.integers(0, SIXTEEN_BIT_MAX + 1, (32, 48)).astype(np.uint16))
    assert scaling.narrow_range is None and scaling.narrow_range_hint("here", "") is None
    scaling.to_uint8(RNG.integers(7000, 9001, (32, 48)).astype(np.uint16))
    low, high = scaling.narrow_range
    assert 7000 <= low < 7100 and 8900 < high <= 9000
    hint = scaling.narrow_range_hint("on /thermal", "Set it to [{low:.0f}, {high:.0f}]")
    assert hint.startswith("16-bit images on /thermal use values 70") and "about 8 grey levels" in hint
    assert hint.endswith(f"Set it to [{low:.0f}, {high:.0f}]")
    twelve_bit = ValueScaling()
    twelve_bit.to_uint8(RNG.integers(0, 4096, (32, 48)).astype(np.uint16))
    assert twelve_bit.narrow_range is not None
    given = ValueScaling((7000, 9000))
    given.to_uint8(RNG.integers(7000, 9001, (32, 48)).astype(np.uint16))
    assert given.narrow_range is None, "a range of the user's own is not second-guessed"


@pytest.mark.parametrize("text,expected", [("7000,9000", (7000.0, 9000.0)), ("-100,100", (-100.0, 100.0)),
                                           (" 0.3 , 5 ", (0.3, 5.0))])
def test_a_range_is_parsed_from_text(text, expected):
    assert ValueScaling.parse(text).value_range == expected
    assert not ValueScaling.parse(None).has_range and ValueScaling.parse("", auto=True).auto


@pytest.mark.parametrize("text,message", [("9,1", "low < high"), ("abc", "LOW,HIGH"), ("1,2,3", "LOW,HIGH"),
                                          ("1,inf", "finite"), ("nan,1", "finite")])
def test_a_wrong_range_is_refused_with_the_reason(text, message):
    with pytest.raises(ValueError, match=message):
        ValueScaling.parse(text)


def test_frame_source_keeps_16_bit_frames_when_asked(tmp_path):
    grey16 = np.arange(7000, 7000 + 12 * 20, dtype=np.uint16).reshape(12, 20)
    colour16 = np.stack([grey16, grey16 + 1000, grey16 + 2000], axis=2)
    grey8 = np.full((12, 20), 70, np.uint8)
    for index, image in enumerate((grey16, colour16, grey8)):
        cv2.imwrite(str(tmp_path / f"{index + 1:08d}.png"), image)
    cv2.imwrite(str(tmp_path / "00000004.tif"), grey16)
    kept = list(FrameSource(tmp_path, keep_depth=True))
    for frame, expected in zip(kept, (grey16, colour16, np.repeat(grey8[:, :, None], 3, axis=2), grey16)):
        assert frame.dtype == expected.dtype and frame.shape == expected.shape
        np.testing.assert_array_equal(frame, expected)
    # Without keep_depth every frame is 8-bit BGR, as before (OpenCV keeps a 16-bit file's top 8 bits).
    assert all(frame.dtype == np.uint8 and frame.shape == (12, 20, 3) for frame in FrameSource(tmp_path))


def test_frame_source_says_which_file_has_pixels_it_cannot_keep(tmp_path):
    cv2.imwrite(str(tmp_path / "00000001.png"), np.zeros((4, 4), np.uint16))
    cv2.imwrite(str(tmp_path / "00000002.tif"), np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match=r"00000002.tif: float32 pixels \(8- and 16-bit images only\)"):
        list(FrameSource(tmp_path, keep_depth=True))
    skipped = []
    frames = list(FrameSource(tmp_path, keep_depth=True, on_unreadable=lambda path, why: skipped.append(why)))
    assert len(frames) == 1 and len(skipped) == 1 and skipped[0].endswith(": skipped")


def test_the_library_reads_16_bit_arrays_as_the_node_does():
    from viltrack_ros.tracking.crop import as_rgb
    values = RNG.integers(0, SIXTEEN_BIT_MAX + 1, (6, 8)).astype(np.uint16)
    expected = np.rint(values / 257.0).astype(np.uint8)   # 65535 / 255 = 257; no value lies half-way
    np.testing.assert_array_equal(as_rgb(values), np.repeat(expected[:, :, None], 3, axis=2))
    np.testing.assert_array_equal(ValueScaling().to_uint8(values), expected)
