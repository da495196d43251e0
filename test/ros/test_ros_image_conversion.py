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
The built-in sensor_msgs/Image conversion (used wherever the ROS 2 cv_bridge is absent), with numpy 2.

Expected values are computed here by hand from the encodings' definitions, not by the code under test.
"""
from __future__ import annotations

import array
import sys

import cv2
import numpy as np
import pytest

from .ros_test_support import skip_module_unless_ros

skip_module_unless_ros()   # before the ROS imports below

from sensor_msgs.msg import CompressedImage, Image  # noqa: E402

from viltrack_ros.ros.image_conversion import (  # noqa: E402
    RANGED_ENCODINGS, SUPPORTED_ENCODINGS, ImageConversionError, ValueScaling, compressed_msg_to_rgb,
    decode_image_msg, image_msg_to_rgb, numpy_to_image_msg, rgb_to_image_msg, value_scaling_from_parameters)

RNG = np.random.default_rng(7)
HEIGHT, WIDTH = 5, 7   # odd sizes catch row/column mix-ups


def raw_msg(pixels: np.ndarray, encoding: str, padding: int = 0, big_endian: bool = False) -> Image:
    """Build a message by hand: rows of ``pixels`` bytes, each followed by ``padding`` junk bytes."""
    pixels = pixels.reshape(pixels.shape[0], pixels.shape[1], -1)
    if pixels.dtype.itemsize > 1:
        pixels = pixels.astype(pixels.dtype.newbyteorder(">" if big_endian else "<"))
    rows = pixels.reshape(pixels.shape[0], -1).view(np.uint8)
    junk = np.full((rows.shape[0], padding), 0xAB, np.uint8)
    data = np.concatenate([rows, junk], axis=1)
    msg = Image(height=pixels.shape[0], width=pixels.shape[1], encoding=encoding, is_bigendian=int(big_endian),
                step=data.shape[1])
    msg.data = array.array("B", data.tobytes())
    return msg


def test_numpy_is_version_2():
    # The point of these tests is the numpy 2 path that broke the ROS 1 cv_bridge copy.
    assert int(np.__version__.split(".")[0]) >= 2


@pytest.mark.parametrize("padding", [0, 3])
@pytest.mark.parametrize("encoding,channels,to_rgb", [
    ("rgb8", 3, lambda p: p),
    ("bgr8", 3, lambda p: p[:, :, ::-1]),
    ("rgba8", 4, lambda p: p[:, :, :3]),
    ("bgra8", 4, lambda p: p[:, :, [2, 1, 0]]),
    ("8UC3", 3, lambda p: p[:, :, ::-1]),
    ("8UC4", 4, lambda p: p[:, :, [2, 1, 0]]),
    ("mono8", 1, lambda p: np.repeat(p, 3, axis=2)),
    ("8UC1", 1, lambda p: np.repeat(p, 3, axis=2)),
])
def test_8_bit_encodings_with_and_without_row_padding(encoding, channels, to_rgb, padding):
    pixels = RNG.integers(0, 256, (HEIGHT, WIDTH, channels), dtype=np.uint8)
    rgb = decode_image_msg(raw_msg(pixels, encoding, padding))
    assert rgb.dtype == np.uint8 and rgb.shape == (HEIGHT, WIDTH, 3) and rgb.flags.c_contiguous
    np.testing.assert_array_equal(rgb, to_rgb(pixels))


@pytest.mark.parametrize("big_endian", [False, True])
@pytest.mark.parametrize("padding", [0, 2])
@pytest.mark.parametrize("encoding,channels,order", [
    ("mono16", 1, [0, 0, 0]), ("16UC1", 1, [0, 0, 0]), ("rgb16", 3, [0, 1, 2]), ("bgr16", 3, [2, 1, 0]),
    ("rgba16", 4, [0, 1, 2]), ("bgra16", 4, [2, 1, 0]),
])
def test_16_bit_encodings_honour_byte_order_and_scale_full_range(encoding, channels, order, padding, big_endian):
    pixels = RNG.integers(0, 65536, (HEIGHT, WIDTH, channels), dtype=np.uint16)
    pixels[0, 0, :] = 0
    pixels[0, 1, :] = 65535
    pixels[0, 2, :] = 257 * 100   # exactly 100 after scaling
    rgb = decode_image_msg(raw_msg(pixels, encoding, padding, big_endian))
    expected = np.round(pixels[:, :, order].astype(np.float64) * 255 / 65535).astype(np.uint8)
    np.testing.assert_array_equal(rgb, expected)
    assert rgb[0, 0].tolist() == [0, 0, 0] and rgb[0, 1].tolist() == [255, 255, 255]
    assert rgb[0, 2].tolist() == [100, 100, 100]


@pytest.mark.parametrize("encoding,red_at", [
    # Where the red sample sits in each 2x2 Bayer cell (row, column).
    ("bayer_rggb8", (0, 0)), ("bayer_bggr8", (1, 1)), ("bayer_gbrg8", (1, 0)), ("bayer_grbg8", (0, 1)),
])
def test_bayer_patterns_follow_the_ros_naming(encoding, red_at):
    # A uniform orange scene sampled through the pattern: demosaicing must give orange back inside the image.
    colour = {"r": 220, "g": 120, "b": 30}
    mosaic = np.empty((8, 8), np.uint8)
    blue_at = (1 - red_at[0], 1 - red_at[1])
    for row in range(8):
        for column in range(8):
            cell = (row % 2, column % 2)
            mosaic[row, column] = colour["r"] if cell == red_at else colour["b"] if cell == blue_at else colour["g"]
    rgb = decode_image_msg(raw_msg(mosaic, encoding))
    np.testing.assert_allclose(rgb[2:6, 2:6].reshape(-1, 3), [[220, 120, 30]] * 16, atol=2)


@pytest.mark.parametrize("encoding,layout", [("yuv422", "uyvy"), ("uyvy", "uyvy"), ("yuv422_yuy2", "yuyv"),
                                             ("yuyv", "yuyv")])
def test_packed_yuv422(encoding, layout):
    # BT.601 limited range: Y=81, U=90, V=240 is pure red; Y=128, U=V=128 is mid grey.
    red, grey = (81, 90, 240), (128, 128, 128)
    pixels = np.empty((2, 4, 2), np.uint8)
    for column_pair, (y, u, v) in enumerate([red, grey]):
        for row in range(2):
            first, second = column_pair * 2, column_pair * 2 + 1
            if layout == "uyvy":
                pixels[row, first], pixels[row, second] = (u, y), (v, y)
            else:
                pixels[row, first], pixels[row, second] = (y, u), (y, v)
    rgb = decode_image_msg(raw_msg(pixels, encoding)).astype(int)
    assert np.all(np.abs(rgb[:, :2] - [255, 0, 0]) <= 6), rgb[:, :2]
    assert np.all(np.abs(rgb[:, 2:] - [130, 130, 130]) <= 6), rgb[:, 2:]


def test_data_as_bytes_or_list_of_ints():
    pixels = RNG.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    msg = raw_msg(pixels, "rgb8")
    as_bytes = Image(height=HEIGHT, width=WIDTH, encoding="rgb8", step=WIDTH * 3)
    as_bytes._data = bytes(msg.data)   # what a Python-side message may hold before serialisation
    np.testing.assert_array_equal(decode_image_msg(as_bytes), pixels)
    msg.data = list(msg.data)
    np.testing.assert_array_equal(decode_image_msg(msg), pixels)


@pytest.mark.parametrize("encoding", [e for e in SUPPORTED_ENCODINGS if not e.startswith("nv")])
def test_writing_then_reading_back_every_encoding(encoding):
    from viltrack_ros.ros.image_conversion import _LAYOUTS

    layout = _LAYOUTS[encoding]
    high = 65536 if layout.dtype == np.uint16 else 256
    pixels = RNG.integers(0, high, (4, 6, layout.channels)).astype(layout.dtype)
    msg = numpy_to_image_msg(pixels, encoding)
    assert (msg.height, msg.width, msg.encoding) == (4, 6, encoding)
    assert msg.step == 6 * layout.channels * np.dtype(layout.dtype).itemsize
    assert msg.is_bigendian == int(sys.byteorder == "big" and layout.dtype == np.uint16)
    assert isinstance(msg.data, array.array) and len(msg.data) == msg.step * 4
    rgb = decode_image_msg(msg)
    assert rgb.shape == (4, 6, 3) and rgb.dtype == np.uint8


def test_rgb_to_image_msg_keeps_the_header():
    from std_msgs.msg import Header

    header = Header(frame_id="camera_optical_frame")
    header.stamp.sec, header.stamp.nanosec = 12, 34
    rgb = RNG.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    msg = rgb_to_image_msg(rgb, header)
    assert msg.header == header and msg.encoding == "rgb8"
    np.testing.assert_array_equal(image_msg_to_rgb(msg), rgb)


@pytest.mark.parametrize("mutate,message", [
    (lambda m: setattr(m, "encoding", "32FC1"), "unsupported image encoding '32FC1'"),
    (lambda m: setattr(m, "encoding", ""), "unsupported image encoding ''"),
    (lambda m: setattr(m, "step", WIDTH * 3 - 1), "step"),
    (lambda m: setattr(m, "data", array.array("B", bytes(m.data)[:-1])), "data holds"),
    (lambda m: (setattr(m, "height", 0), setattr(m, "width", 0)), "empty image"),
])
def test_inconsistent_messages_raise_a_clear_error(mutate, message):
    msg = raw_msg(RNG.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8), "bgr8")
    mutate(msg)
    with pytest.raises(ImageConversionError, match=message):
        image_msg_to_rgb(msg)


def test_writing_checks_shape_and_type():
    with pytest.raises(ImageConversionError, match="needs"):
        numpy_to_image_msg(np.zeros((2, 2, 3), np.uint16), "rgb8")
    with pytest.raises(ImageConversionError, match="cannot write"):
        numpy_to_image_msg(np.zeros((2, 2), np.float32), "32FC1")


def test_compressed_jpeg_and_png():
    bgr = np.zeros((16, 24, 3), np.uint8)
    bgr[:, :12] = (255, 0, 0)   # blue left half (BGR)
    for extension in (".png", ".jpg"):
        msg = CompressedImage(format=extension[1:])
        msg.data = array.array("B", cv2.imencode(extension, bgr)[1].tobytes())
        rgb = compressed_msg_to_rgb(msg)
        assert rgb.shape == (16, 24, 3)
        assert np.all(np.abs(rgb[4:12, 2:8].astype(int) - [0, 0, 255]) <= 8), "BGR must become RGB"
    broken = CompressedImage(format="jpeg")
    broken.data = array.array("B", b"not an image")
    with pytest.raises(ImageConversionError, match="cannot decode"):
        compressed_msg_to_rgb(broken)


# --- values wider than 8 bits through a range (thermal counts, depth) -----------------------------------------------
def grey(rgb: np.ndarray) -> np.ndarray:
    """Return the one grey channel of a converted single-channel image (its three RGB channels must be equal)."""
    assert rgb.dtype == np.uint8 and np.all(rgb == rgb[:, :, :1])
    return rgb[:, :, 0].astype(np.float64)


@pytest.mark.parametrize("big_endian", [False, True])
def test_a_value_range_spreads_thermal_counts_over_the_grey_levels(big_endian):
    # A 14-bit thermal camera's raw counts of a room: 7000-9000 of 65535. Over the whole 16-bit range they are
    # 27-35 of 255, nearly uniform grey; over their own range, the full contrast.
    counts = np.array([[6500, 7000, 7400, 8000], [8600, 9000, 9500, 65535], [0, 7200, 8800, 7100]], np.uint16)
    msg = raw_msg(counts, "mono16", padding=2, big_endian=big_endian)
    whole = grey(decode_image_msg(msg))
    assert whole[1, 1] - whole[0, 1] <= 8   # 7000 -> 27, 9000 -> 35 over the whole range
    ranged = grey(decode_image_msg(msg, ValueScaling((7000, 9000))))
    expected = np.clip((counts - 7000.0) * 255 / 2000, 0, 255)
    np.testing.assert_allclose(ranged, expected, atol=1)   # float32 arithmetic may round a .5 the other way
    assert ranged[0, 0] == 0 and ranged[0, 1] == 0 and ranged[1, 1] == 255 and ranged[2, 0] == 0


def test_depth_in_metres_with_no_readings_needs_a_range_and_gets_nan_as_black():
    depth = np.array([[0.5, 1.0, 2.5, np.nan], [4.5, 6.0, np.inf, -np.inf], [0.2, 3.7, 1.25, 2.0]], np.float32)
    msg = raw_msg(depth, "32FC1", padding=4)
    with pytest.raises(ImageConversionError, match=r"'32FC1'.*image\.value_range") as refused:
        decode_image_msg(msg)
    assert refused.value.kind == "unsupported encoding '32FC1'"
    ranged = grey(decode_image_msg(msg, ValueScaling((0.5, 4.5))))
    expected = np.clip((np.nan_to_num(depth, nan=0.5, posinf=1e9, neginf=-1e9) - 0.5) * 255 / 4.0, 0, 255)
    np.testing.assert_allclose(ranged, expected, atol=1)
    assert ranged[0, 3] == 0 and ranged[1, 2] == 255 and ranged[1, 3] == 0   # NaN, +inf, -inf


@pytest.mark.parametrize("encoding", RANGED_ENCODINGS)
def test_every_signed_and_floating_point_encoding_reads_through_a_range(encoding):
    dtype = {"8S": np.int8, "16S": np.int16, "32S": np.int32, "32F": np.float32, "64F": np.float64}[encoding[:-2]]
    channels = int(encoding[-1])
    values = RNG.integers(-100, 101, (HEIGHT, WIDTH, channels)).astype(dtype)
    big_endian = channels == 1 and values.dtype.itemsize > 1   # both byte orders go over the wire
    rgb = decode_image_msg(raw_msg(values, encoding, padding=1, big_endian=big_endian), ValueScaling((-100, 100)))
    levels = np.rint((values.astype(np.float64) + 100) * 255 / 200)
    expected = np.repeat(levels, 3, axis=2) if channels == 1 else levels[:, :, [2, 1, 0]]   # BGR(A), as 8UC3/4
    np.testing.assert_allclose(rgb, expected, atol=1, err_msg=encoding)


def test_eight_bit_images_are_never_scaled():
    pixels = RNG.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
    for scaling in (ValueScaling((50, 60)), ValueScaling(auto=True)):
        np.testing.assert_array_equal(decode_image_msg(raw_msg(pixels, "rgb8"), scaling), pixels)
        np.testing.assert_array_equal(image_msg_to_rgb(raw_msg(pixels, "rgb8"), scaling), pixels)


@pytest.mark.parametrize("value,message", [
    ([1.0], "two numbers"), ([1.0, 2.0, 3.0], "two numbers"), (["a", "b"], "two numbers"), ([True, False], "two"),
    ("7000,9000", "two numbers"), ([5.0, 1.0], "low < high"), ([3.0, 3.0], "low < high"),
    ([float("nan"), 1.0], "finite"), ([0.0, float("inf")], "finite"),
])
def test_the_node_parameter_value_range_is_checked(value, message):
    with pytest.raises(ValueError, match=message) as refused:
        value_scaling_from_parameters(value, False)
    assert "image.value_range" in str(refused.value)


def test_the_node_parameter_value_range_takes_any_numbers_and_zero_zero_for_none():
    assert not value_scaling_from_parameters([0.0, 0.0], False).has_range
    assert value_scaling_from_parameters([0, 0], True).auto
    assert value_scaling_from_parameters([7000, 9000], False).value_range == (7000.0, 9000.0)
    assert value_scaling_from_parameters((0.3, 5), False).value_range == (0.3, 5.0)
    # What rclpy hands over for an array parameter: array.array of doubles.
    assert value_scaling_from_parameters(array.array("d", [7000, 9000]), False).value_range == (7000.0, 9000.0)
    assert not value_scaling_from_parameters(array.array("d", [0.0, 0.0]), False).has_range


def test_an_automatic_range_reads_every_colour_of_a_bayer_mosaic():
    # Red sites 1000-2000, green 20000-30000, blue 40000-50000: the range must come from all of them (a sample of
    # one colour site would stretch green and blue to white).
    height, width = 64, 96
    mosaic = np.empty((height, width), np.uint16)
    sites = {(0, 0): (1000, 2000), (0, 1): (20000, 30000), (1, 0): (20000, 30000), (1, 1): (40000, 50000)}
    for (row, column), (low, high) in sites.items():
        mosaic[row::2, column::2] = RNG.integers(low, high, (height // 2, width // 2))
    rgb = decode_image_msg(raw_msg(mosaic, "bayer_rggb16"), ValueScaling(auto=True)).astype(float)
    red, green, blue = (rgb[4:-4, 4:-4, channel].mean() for channel in range(3))
    assert red < 60 and 90 < green < 170 and blue > 190, (red, green, blue)


def test_a_16_bit_png_keeps_its_bits_through_compression():
    counts = RNG.integers(7000, 9001, (12, 20)).astype(np.uint16)
    msg = CompressedImage(format="mono16; png compressed")
    msg.data = array.array("B", cv2.imencode(".png", counts)[1].tobytes())
    whole = grey(compressed_msg_to_rgb(msg))
    assert whole.max() - whole.min() <= 8
    ranged = grey(compressed_msg_to_rgb(msg, ValueScaling((7000, 9000))))
    np.testing.assert_allclose(ranged, np.clip((counts - 7000.0) * 255 / 2000, 0, 255), atol=1)
    scaling = ValueScaling()
    compressed_msg_to_rgb(msg, scaling)
    assert scaling.narrow_range is not None
