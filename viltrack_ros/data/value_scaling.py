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
How values wider than 8 bits (16-bit, signed, floating point) become the tracker's 8-bit grey levels.

A thermal camera's counts, a 12-bit camera's values or a depth image's metres, read through a given range or one that
follows the images. Shared by the ROS node's image conversion and ``viltrack track``. No ROS here.
"""
from __future__ import annotations

import numpy as np

# A thermal camera's 14-bit counts or a depth image's metres fill a small part of their type's range: the range that
# matters is the scene's. The automatic range follows each image's 1st and 99th percentile (so that a hot lamp or a
# depth dropout does not set it) and moves a tenth of the way there per image: brightness follows the scene without
# jumping from frame to frame, which the tracker would take for a change of the target's appearance. Like a thermal
# camera's own automatic gain it stretches whatever varies, in a uniform scene the sensor's noise.
AUTO_RANGE_PERCENTILES = (1.0, 99.0)
AUTO_RANGE_SMOOTHING = 0.1
# The percentiles are read from a grid of about this many pixels, whatever the image's size (0.1-0.3 ms). Its step is
# odd, so that every colour site of a Bayer mosaic is read.
_RANGE_SAMPLE_PIXELS = 16_384
SIXTEEN_BIT_MAX = 65535
# With the default (whole 16-bit) range, an image whose values span less than this share of it reaches the tracker
# as fewer than 32 grey levels: a thermal camera's 14-bit counts of a room (about 8 levels) or a 12-bit camera (16).
# The node and `viltrack track` say so once, with the setting that helps (ValueScaling.narrow_range).
NARROW_RANGE_SHARE = 1 / 8
# float32 arithmetic keeps a range's 255 levels apart for values up to about 1e5 times the range's width; wider
# types, or bounds beyond float32's comfort, are scaled in float64.
_FLOAT32_TYPES = (np.uint16, np.int8, np.int16, np.float32)
_FLOAT32_BOUND = 1e30


def sixteen_bit_to_uint8(values: np.ndarray) -> np.ndarray:
    """
    Return uint16 values over their whole range (0-65535) as grey levels 0-255, rounded, as cv_bridge converts them.

    Integer arithmetic: the same for every frame, so brightness does not flicker.
    """
    return ((values.astype(np.uint32) * 255 + SIXTEEN_BIT_MAX // 2) // SIXTEEN_BIT_MAX).astype(np.uint8)


class ValueScaling:
    """
    How values wider than 8 bits (16-bit, signed, floating point) become the tracker's 8-bit grey levels.

    The default, ``ValueScaling()``, is the encoding's own range: 16-bit values over 0-65535, as cv_bridge converts
    them; signed and floating-point images are refused, having none. ``value_range=(low, high)``: ``low`` and below
    black, ``high`` and above white, linear between. ``auto=True``: a range that follows the images (see
    ``AUTO_RANGE_PERCENTILES``). NaN (a depth camera's "no reading") is black. 8-bit images are never scaled. An
    automatic range keeps state from image to image: use one object per image stream.
    """

    def __init__(self, value_range: tuple[float, float] | None = None, auto: bool = False):
        if value_range is not None:
            low, high = (float(value) for value in value_range)
            if not (np.isfinite(low) and np.isfinite(high) and low < high and np.isfinite(high - low)):
                raise ValueError(f"a value range needs finite low < high, got [{low}, {high}]")
            value_range = (low, high)
        self.value_range = value_range
        self.auto = bool(auto)
        self._auto_bounds: tuple[float, float] | None = None
        # The default range's latest 16-bit image, when its values (percentiles AUTO_RANGE_PERCENTILES) vary but span
        # less than NARROW_RANGE_SHARE of 0-65535; None otherwise. Checked on every image until found.
        self.narrow_range: tuple[float, float] | None = None

    @property
    def has_range(self) -> bool:
        """Whether a range was given (or is automatic): signed and floating-point images are read only then."""
        return self.auto or self.value_range is not None

    def describe(self) -> str:
        if self.auto:
            low, high = AUTO_RANGE_PERCENTILES
            return f"automatic (each image's percentiles {low:g} and {high:g}, followed smoothly)"
        if self.value_range is not None:
            return f"{self.value_range[0]:g} (black) to {self.value_range[1]:g} (white)"
        return f"the encoding's own (16-bit: 0-{SIXTEEN_BIT_MAX})"

    @classmethod
    def parse(cls, text: str | None, auto: bool = False) -> ValueScaling:
        """Build it from ``LOW,HIGH`` (a command-line option; None or empty: no range of its own) and ``auto``."""
        if not text:
            return cls(None, auto)
        parts = text.split(",")
        try:
            if len(parts) != 2:
                raise ValueError
            low, high = float(parts[0]), float(parts[1])
        except ValueError:
            raise ValueError(f"a value range is LOW,HIGH (e.g. 7000,9000), got {text!r}") from None
        return cls((low, high), auto)

    def narrow_range_hint(self, where: str, how_to_set: str) -> str | None:
        """
        Say what a narrow range seen with the default scaling means, or None when none was seen.

        ``where``: whose images (``on /image``); ``how_to_set``: the settings that help, a format string that may
        use ``{low}`` and ``{high}``.
        """
        if self.narrow_range is None:
            return None
        low, high = self.narrow_range
        levels = int((high - low) * 255 / SIXTEEN_BIT_MAX) + 1
        return (f"16-bit images {where} use values {low:.0f}-{high:.0f} (1st-99th percentile) of 0-{SIXTEEN_BIT_MAX}: "
                f"the tracker sees them as about {levels} grey levels. A thermal or 12-bit camera? "
                + how_to_set.format(low=low, high=high))

    def to_uint8(self, values: np.ndarray) -> np.ndarray:
        """Return ``values`` (``(H, W)`` or ``(H, W, C)``) as uint8 grey levels (8-bit values unchanged)."""
        if values.dtype == np.uint8:
            return values
        if not self.has_range:
            if values.dtype != np.uint16:
                raise ValueError(f"{values.dtype} values have no range of their own: give one, or an automatic one")
            if self.narrow_range is None:
                percentiles = _percentiles(values)
                if percentiles and 0 < percentiles[1] - percentiles[0] < NARROW_RANGE_SHARE * SIXTEEN_BIT_MAX:
                    self.narrow_range = percentiles
            return sixteen_bit_to_uint8(values)
        low, high = self._automatic_range(values) if self.auto else self.value_range
        narrow_type = (values.dtype.type in _FLOAT32_TYPES and max(abs(low), abs(high)) < _FLOAT32_BOUND
                       and high - low > 1 / _FLOAT32_BOUND)
        scaled = values.astype(np.float32 if narrow_type else np.float64)
        scaled -= low
        scaled *= 255.0 / (high - low)
        np.nan_to_num(scaled, copy=False, nan=0.0, posinf=255.0, neginf=0.0)
        np.clip(scaled, 0.0, 255.0, out=scaled)
        return np.rint(scaled, out=scaled).astype(np.uint8)

    def _automatic_range(self, values: np.ndarray) -> tuple[float, float]:
        percentiles = _percentiles(values)
        if percentiles is not None:
            low, high = percentiles
            if self._auto_bounds is not None:
                previous_low, previous_high = self._auto_bounds
                low = previous_low + AUTO_RANGE_SMOOTHING * (low - previous_low)
                high = previous_high + AUTO_RANGE_SMOOTHING * (high - previous_high)
            self._auto_bounds = (low, high)
        low, high = self._auto_bounds or (0.0, 1.0)   # an image with no finite value yet: all black
        # A uniform image (every value equal) must not divide by zero: it becomes one grey level.
        return low, max(high, low + 1e-6 + 1e-3 * max(abs(low), abs(high)))


def _percentiles(values: np.ndarray) -> tuple[float, float] | None:
    """Return the finite ``values``' percentiles ``AUTO_RANGE_PERCENTILES`` on a grid of pixels, or None."""
    height, width = values.shape[:2]
    step = max(1, int(np.sqrt(height * width / _RANGE_SAMPLE_PIXELS)))
    step += 1 - step % 2   # odd
    sample = values[::step, ::step].ravel().astype(np.float64)
    sample = sample[np.isfinite(sample)]
    if not sample.size:
        return None
    low, high = np.percentile(sample, AUTO_RANGE_PERCENTILES)
    return float(low), float(high)
