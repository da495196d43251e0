"""sensor_msgs/Image <-> numpy, for the tracker's input (uint8 RGB) and the overlay output.

The real ROS 2 ``cv_bridge`` is used when a ROS installation provides it. Where it is absent (the pip wheels have
none, and the pip package named ``cv-bridge`` is a broken ROS 1 copy), a small conversion of our own does the job:
it honours ``step`` (row padding) and ``is_bigendian``, reads ``data`` as ``array.array``, ``bytes`` or a list,
and works with numpy 1 and 2. An unsupported encoding or an inconsistent message raises
:class:`ImageConversionError`, so the node can log it and skip the frame.
"""
from __future__ import annotations

import array
import sys
from dataclasses import dataclass

import cv2
import numpy as np
from sensor_msgs.msg import CompressedImage, Image


class ImageConversionError(ValueError):
    """The message cannot be turned into an image: unsupported encoding, or sizes that do not add up."""


@dataclass(frozen=True)
class _Layout:
    dtype: type        # numpy type of one channel value
    channels: int      # values per pixel in the message
    to_rgb: str        # how the channels become RGB (see _to_rgb)


# ROS encodings (sensor_msgs/image_encodings.hpp). The OpenCV-style names (8UC3, ...) carry no colour order;
# like cv_bridge we read 3 and 4 channels as BGR(A), the order OpenCV writes.
_LAYOUTS: dict[str, _Layout] = {
    "rgb8": _Layout(np.uint8, 3, "rgb"),
    "bgr8": _Layout(np.uint8, 3, "bgr"),
    "rgba8": _Layout(np.uint8, 4, "rgba"),
    "bgra8": _Layout(np.uint8, 4, "bgra"),
    "mono8": _Layout(np.uint8, 1, "mono"),
    "8UC1": _Layout(np.uint8, 1, "mono"),
    "8UC3": _Layout(np.uint8, 3, "bgr"),
    "8UC4": _Layout(np.uint8, 4, "bgra"),
    "mono16": _Layout(np.uint16, 1, "mono"),
    "16UC1": _Layout(np.uint16, 1, "mono"),
    "rgb16": _Layout(np.uint16, 3, "rgb"),
    "bgr16": _Layout(np.uint16, 3, "bgr"),
    "rgba16": _Layout(np.uint16, 4, "rgba"),
    "bgra16": _Layout(np.uint16, 4, "bgra"),
    "bayer_rggb8": _Layout(np.uint8, 1, "bayer_rggb"),
    "bayer_bggr8": _Layout(np.uint8, 1, "bayer_bggr"),
    "bayer_gbrg8": _Layout(np.uint8, 1, "bayer_gbrg"),
    "bayer_grbg8": _Layout(np.uint8, 1, "bayer_grbg"),
    # 4:2:2 packed YUV, two bytes per pixel. ROS calls UYVY "yuv422" and YUYV "yuv422_yuy2".
    "yuv422": _Layout(np.uint8, 2, "uyvy"),
    "uyvy": _Layout(np.uint8, 2, "uyvy"),
    "yuv422_yuy2": _Layout(np.uint8, 2, "yuyv"),
    "yuyv": _Layout(np.uint8, 2, "yuyv"),
}
SUPPORTED_ENCODINGS = tuple(_LAYOUTS)

# OpenCV names a Bayer pattern after the second row's first two pixels, ROS after the first row's (as cv_bridge maps).
_BAYER_TO_RGB = {
    "bayer_rggb": cv2.COLOR_BayerBG2RGB,
    "bayer_bggr": cv2.COLOR_BayerRG2RGB,
    "bayer_gbrg": cv2.COLOR_BayerGR2RGB,
    "bayer_grbg": cv2.COLOR_BayerGB2RGB,
}


def _ros2_cv_bridge():
    """The ROS 2 cv_bridge when a ROS installation registers it, else None (never the pip ROS 1 copy)."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_prefix
        get_package_prefix("cv_bridge")
        from cv_bridge import CvBridge, CvBridgeError
    except (ImportError, PackageNotFoundError, LookupError, ValueError):
        return None
    return CvBridge(), CvBridgeError


_CV_BRIDGE = _ros2_cv_bridge()


def using_cv_bridge() -> bool:
    return _CV_BRIDGE is not None


def image_msg_to_rgb(msg: Image) -> np.ndarray:
    """``sensor_msgs/Image`` -> contiguous ``uint8`` array ``(H, W, 3)`` in RGB order."""
    if _CV_BRIDGE is not None and msg.encoding in _LAYOUTS:
        bridge, bridge_error = _CV_BRIDGE
        try:
            return np.ascontiguousarray(bridge.imgmsg_to_cv2(msg, desired_encoding="rgb8"))
        except bridge_error as error:
            raise ImageConversionError(str(error)) from error
    return decode_image_msg(msg)


def decode_image_msg(msg: Image) -> np.ndarray:
    """The conversion used without cv_bridge (public so that it is tested on every machine)."""
    layout = _LAYOUTS.get(msg.encoding)
    if layout is None:
        raise ImageConversionError(
            f"unsupported image encoding '{msg.encoding}'; supported: {', '.join(SUPPORTED_ENCODINGS)}")
    return _to_rgb(_message_pixels(msg, layout), layout)


def _message_pixels(msg: Image, layout: _Layout) -> np.ndarray:
    """The message's pixels as ``(H, W, C)`` of the layout's type, padding removed, in native byte order."""
    height, width, step = int(msg.height), int(msg.width), int(msg.step)
    if height <= 0 or width <= 0:
        raise ImageConversionError(f"empty image: {width}x{height}")
    item_size = np.dtype(layout.dtype).itemsize
    row_bytes = width * layout.channels * item_size
    if step < row_bytes:
        raise ImageConversionError(
            f"step {step} is smaller than a row of {width} {msg.encoding} pixels ({row_bytes} bytes)")
    data = msg.data
    if not isinstance(data, (bytes, bytearray, memoryview, array.array, np.ndarray)):
        data = bytes(bytearray(data))   # a plain list of ints, as a hand-made message may hold
    raw = np.frombuffer(data, dtype=np.uint8)
    if raw.size < step * height:
        raise ImageConversionError(
            f"data holds {raw.size} bytes but {height} rows of step {step} need {step * height}")
    rows = raw[: step * height].reshape(height, step)[:, :row_bytes]
    if item_size > 1:
        byte_order = ">" if msg.is_bigendian else "<"
        rows = np.ascontiguousarray(rows).view(np.dtype(layout.dtype).newbyteorder(byte_order))
        rows = rows.astype(layout.dtype)   # native order from here on
    return rows.reshape(height, width, layout.channels)


def _to_rgb(pixels: np.ndarray, layout: _Layout) -> np.ndarray:
    if pixels.dtype == np.uint16:
        # Full-range linear scaling (65535 -> 255), the same for every frame so brightness does not flicker.
        pixels = ((pixels.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    kind = layout.to_rgb
    if kind == "rgb":
        rgb = pixels
    elif kind == "bgr":
        rgb = pixels[:, :, ::-1]
    elif kind == "rgba":
        rgb = pixels[:, :, :3]
    elif kind == "bgra":
        rgb = pixels[:, :, 2::-1]
    elif kind == "mono":
        rgb = np.repeat(pixels, 3, axis=2)
    elif kind in _BAYER_TO_RGB:
        rgb = cv2.cvtColor(np.ascontiguousarray(pixels[:, :, 0]), _BAYER_TO_RGB[kind])
    elif kind == "uyvy":
        rgb = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_YUV2RGB_UYVY)
    elif kind == "yuyv":
        rgb = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_YUV2RGB_YUY2)
    else:  # pragma: no cover - every layout above names a handled kind
        raise AssertionError(kind)
    return np.ascontiguousarray(rgb, dtype=np.uint8)


def numpy_to_image_msg(pixels: np.ndarray, encoding: str, header=None) -> Image:
    """Pack ``pixels`` (``(H, W)`` or ``(H, W, C)`` matching ``encoding``) into an unpadded ``sensor_msgs/Image``."""
    layout = _LAYOUTS.get(encoding)
    if layout is None:
        raise ImageConversionError(f"cannot write encoding '{encoding}'; supported: {', '.join(SUPPORTED_ENCODINGS)}")
    pixels = np.asarray(pixels)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] != layout.channels or pixels.dtype != layout.dtype:
        raise ImageConversionError(
            f"{encoding} needs ({layout.channels} channels, {np.dtype(layout.dtype).name}); got shape "
            f"{pixels.shape} of {pixels.dtype}")
    height, width = pixels.shape[:2]
    msg = Image()
    if header is not None:
        msg.header = header
    msg.height, msg.width, msg.encoding = height, width, encoding
    msg.is_bigendian = int(sys.byteorder == "big" and pixels.dtype.itemsize > 1)
    msg.step = width * layout.channels * pixels.dtype.itemsize
    # An array.array('B') is taken as is by the generated setter; any other sequence is checked value by value.
    msg.data = array.array("B", np.ascontiguousarray(pixels).tobytes())
    return msg


def rgb_to_image_msg(rgb: np.ndarray, header=None) -> Image:
    """``uint8 (H, W, 3)`` RGB -> ``sensor_msgs/Image`` (rgb8)."""
    return numpy_to_image_msg(rgb, "rgb8", header)


def compressed_msg_to_rgb(msg: CompressedImage) -> np.ndarray:
    """``sensor_msgs/CompressedImage`` (JPEG/PNG, as image_transport's compressed plugin sends) -> RGB."""
    encoded = np.frombuffer(msg.data if not isinstance(msg.data, list) else bytes(msg.data), dtype=np.uint8)
    bgr = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if encoded.size else None
    if bgr is None:
        raise ImageConversionError(f"cannot decode compressed image (format '{msg.format}', {encoded.size} bytes)")
    return np.ascontiguousarray(bgr[:, :, ::-1])
