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
"""NanoTrack v2 as a teacher: its score map, resampled to our grid, peaks where the target is."""
import pytest
import torch

from viltrack_ros.evaluation.trackers import find_nanotrack
from viltrack_ros.tracking.crop import crop_and_resize
from viltrack_ros.training.distill import distillation_loss


@pytest.fixture(scope="module")
def teacher():
    folder, reason = find_nanotrack()
    if folder is None:
        pytest.skip(reason)
    from viltrack_ros.training.distill import NanoTrackTeacher
    return NanoTrackTeacher(folder)


def test_teacher_map_peaks_at_the_target(teacher, sequences_root):
    from viltrack_ros.data.sequences import load_sequence_folder
    sequence = load_sequence_folder(sequences_root / "vot2015_bag")
    template, _ = crop_and_resize(sequence.read_frame(0), sequence.boxes[0], 2.0, 96)
    frame, box = sequence.read_frame(10), sequence.boxes[10]
    # The target off-centre in the search crop, as after a motion: centre shifted by half its size.
    x, y, w, h = box
    centre = (x + w / 2 + 0.5 * w, y + h / 2 - 0.3 * h)
    search, transform = crop_and_resize(frame, box, 4.0, 192, center=centre)
    maps = teacher.score_maps(template[None], search[None], grid=10)
    assert maps.shape == (1, 1, 10, 10)
    row, col = divmod(int(maps[0, 0].flatten().argmax()), 10)
    bx, by, bw, bh = transform.image_to_crop_box(box) / 192
    assert abs((col + 0.5) / 10 - (bx + bw / 2)) <= 0.15 and abs((row + 0.5) / 10 - (by + bh / 2)) <= 0.15


def test_distillation_loss_ignores_masked_pairs():
    logits = torch.zeros(2, 1, 4, 4, requires_grad=True)
    teacher_maps = torch.rand(2, 1, 4, 4)
    none = distillation_loss(logits, teacher_maps, torch.tensor([False, False]))
    assert float(none.detach()) == 0.0
    one = distillation_loss(logits, teacher_maps, torch.tensor([True, False]))
    one.backward()
    assert logits.grad[1].abs().sum() == 0 and logits.grad[0].abs().sum() > 0
