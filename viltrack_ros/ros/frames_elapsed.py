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
How many camera frames passed between two images the tracker was given, from sequence numbers or image stamps.

A node that cannot keep up with its camera keeps only the newest image (``qos.depth`` 1): the ones in between are
dropped by DDS, unseen. The tracker then searches where its targets should be after that many frames
(``TrackerConfig.missed_frames_prediction``). Three sources say how many:

- the publication sequence numbers in ``MessageInfo`` (Fast DDS, Connext, Zenoh give them) count the images this
  node did not take;
- the camera's frame rate, where the user states it (``camera_frame_rate``): the stamps' difference times the rate
  counts the camera's frames, also those dropped before the images reached this node (a throttle or relay in
  between numbers its own messages consecutively); the larger of the two counts is taken;
- where the RMW gives none (Cyclone DDS), the stamps' difference over the camera's frame period learnt from the
  stamps themselves.
"""
from __future__ import annotations

import collections

import numpy as np

# How many recent stamp differences the learnt frame period is taken from, and how many it needs first.
PERIOD_WINDOW = 128
PERIOD_MIN_SAMPLES = 8
# The learnt frame period is this quantile of the recent stamp differences: a node that drops frames sees
# differences of one, two, three periods; the low quantile is one period as long as a quarter of its updates follow
# the one before without a gap. Where fewer do (it drops nearly every other frame) it learns two periods and counts
# too few, never too many: the error falls on the side of today's behaviour (1).
PERIOD_QUANTILE = 0.25
PERIOD_REFINEMENTS = 3


class FramesElapsed:
    """Counts the camera frames from the last tracked image to this one; 1 whenever that is not known."""

    def __init__(self, camera_frame_rate: float = 0.0) -> None:
        """``camera_frame_rate``: the camera's frames per second, or 0 where unknown (then learnt from the stamps)."""
        if not (camera_frame_rate >= 0 and np.isfinite(camera_frame_rate)):
            raise ValueError(f"camera_frame_rate must be a finite number >= 0, got {camera_frame_rate!r}")
        self._stated_period_ns = 1e9 / camera_frame_rate if camera_frame_rate > 0 else None
        # (publisher id, sequence number or None, stamp in ns or None) of the last tracked image
        self._last: tuple[bytes | None, int | None, int | None] | None = None
        self._stamp_differences: collections.deque[int] = collections.deque(maxlen=PERIOD_WINDOW)

    def since_last(self, publisher_id: bytes | None, sequence_number: int | None,
                   stamp_ns: int | None = None) -> int:
        """
        Return the frames from the last tracked image to this one, and remember this one.

        1 (no frame missed) for the first image, from another publisher than the last, with a number or stamp not
        above the last (a restarted publisher, a looping bag), and where neither sequence numbers nor a known frame
        period say more. Images received but not tracked (one that failed to convert) count as frames elapsed: the
        scene moved on.
        """
        previous = self._last
        stamp_ns = stamp_ns if stamp_ns else None   # a zero stamp: a publisher that does not stamp
        self._last = (publisher_id, sequence_number, stamp_ns)
        if previous is None or publisher_id != previous[0]:
            return 1
        by_sequence = None
        if sequence_number is not None and previous[1] is not None and sequence_number > previous[1]:
            by_sequence = sequence_number - previous[1]
        stamp_difference = None
        if stamp_ns is not None and previous[2] is not None and stamp_ns > previous[2]:
            stamp_difference = stamp_ns - previous[2]
            if sequence_number is None:   # the only case the learnt period is used for
                self._stamp_differences.append(stamp_difference)
        period = self._stated_period_ns
        if period is None and sequence_number is None:
            period = self._learnt_period_ns()
        by_stamp = None
        if stamp_difference is not None and period is not None:
            by_stamp = max(1, int(round(stamp_difference / period)))
        return max(by_sequence or 1, by_stamp or 1)

    def _learnt_period_ns(self) -> float | None:
        if len(self._stamp_differences) < PERIOD_MIN_SAMPLES:
            return None
        differences = np.asarray(self._stamp_differences, dtype=np.float64)
        # A first guess from the low quantile, then the median of the differences within half a period of it: the
        # updates without a gap, whose jitter averages out. (Dividing every difference by its rounded number of
        # periods instead settled on a period 14% short with stamps jittering by 30%: the longest single steps,
        # counted as two, pulled it down.)
        period = float(np.quantile(differences, PERIOD_QUANTILE))
        for _ in range(PERIOD_REFINEMENTS):
            near = differences[np.abs(differences - period) < period / 2]
            if near.size:
                period = float(np.median(near))
        return period

    def forget(self) -> None:
        """Count from the next image anew (after a time of not listening, or a tracker that started over)."""
        self._last = None
