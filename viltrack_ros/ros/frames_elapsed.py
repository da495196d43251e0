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
How many camera frames passed between two images the tracker was given, from the middleware's sequence numbers.

A node that cannot keep up with its camera keeps only the newest image (``qos.depth`` 1): the ones in between are
dropped by DDS, unseen. Each image's publication sequence number (``MessageInfo``) says how many: the tracker then
searches where its targets should be after that many frames (``TrackerConfig.missed_frames_prediction``).
"""
from __future__ import annotations


class FramesElapsed:
    """Counts the publisher's frames from the last tracked image to this one; 1 whenever that is not known."""

    def __init__(self) -> None:
        self._last: tuple[bytes, int] | None = None   # (publisher id, sequence number) of the last tracked image

    def since_last(self, publisher_id: bytes | None, sequence_number: int | None) -> int:
        """
        Return the frames from the last tracked image to this one, and remember this one.

        1 (no frame missed, today's behaviour) for the first image, without sequence numbers (an RMW that gives
        none), from another publisher than the last, or with a number not above the last (a restarted publisher).
        Images received but not tracked (one that failed to convert) count as frames elapsed: the scene moved on.
        """
        previous = self._last
        known = publisher_id is not None and bool(sequence_number)
        self._last = (publisher_id, sequence_number) if known else None
        if not known or previous is None or previous[0] != publisher_id or sequence_number <= previous[1]:
            return 1
        return sequence_number - previous[1]

    def forget(self) -> None:
        """Count from the next image anew (after a time of not listening, or a tracker that started over)."""
        self._last = None
