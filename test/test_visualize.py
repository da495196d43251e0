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
"""The annotated image: a box in the status colour where the tracker says, on a copy of the camera image."""
import numpy as np

from viltrack_ros.tracking.visualize import STATUS_COLOURS, draw_tracks
from viltrack_ros.tracking import TrackResult, TrackStatus


def test_box_is_drawn_in_the_status_colour_on_a_copy():
    image = np.full((240, 320, 3), 50, np.uint8)
    original = image.copy()
    result = TrackResult((100.0, 120.0, 60.0, 40.0), 0.8, TrackStatus.TRACKING)
    drawn = draw_tracks(image, [(0, result)])
    np.testing.assert_array_equal(image, original)   # the input is untouched
    colour = list(STATUS_COLOURS[TrackStatus.TRACKING])
    assert drawn[140, 100].tolist() == colour      # left edge
    assert drawn[159, 130].tolist() == colour      # bottom edge: the box's last row, y + h - 1
    assert drawn[160, 130].tolist() == [50, 50, 50]   # the row below the box is not the box's
    assert drawn[140, 159].tolist() == colour and drawn[140, 160].tolist() == [50, 50, 50]   # the same at the right
    assert drawn[140, 130].tolist() == [50, 50, 50]   # inside stays the camera image
    assert drawn[10, 300].tolist() == [50, 50, 50]    # far away too
    assert np.any(np.all(drawn[100:120, 100:200] == colour, axis=2)), "label background above the box"


def test_each_status_has_its_colour_and_boxes_at_the_border_are_fine():
    image = np.zeros((60, 80, 3), np.uint8)
    for status in TrackStatus:
        drawn = draw_tracks(image, [(3, TrackResult((0.0, 0.0, 80.0, 60.0), 0.1, status))])
        assert drawn[30, 0].tolist() == list(STATUS_COLOURS[status])
    assert len({tuple(c) for c in STATUS_COLOURS.values()}) == len(TrackStatus)


def test_no_tracks_gives_the_image_back():
    image = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    np.testing.assert_array_equal(draw_tracks(image, []), image)
