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
The PyTorch backends meant for a GPU (tracking.backends.TORCH_BACKENDS), run here on the CPU.

bfloat16 autocast gives float32's boxes within BF16_BOX_TOLERANCE, torch.compile the same boxes within float rounding;
the tracker and the carried FiLM context only ever see float32. Teacher-forced (both trackers start every frame from
the reference's state), so a difference is one step's, not a drift.
"""
import copy

import numpy as np
import pytest
import torch

from viltrack_ros.tracking import MultiTracker, TrackerConfig
from viltrack_ros.tracking.crop import crop_and_resize
from viltrack_ros.tracking.tracker import normalised_chw
from viltrack_ros.tracking.backends import (BF16_BOX_TOLERANCE, BF16_CONFIDENCE_TOLERANCE, ONNX_TOLERANCE,
                                            TorchBackend, resolve_backend)

SEQUENCE = "Dudek"


@pytest.fixture(scope="module")
def real_frames(sequence_frames):
    return sequence_frames(SEQUENCE, 10)


def _teacher_forced(model, backend, frames, boxes, config=None):
    """Per frame: (reference result, candidate result, candidate's carried context) from the same state."""
    reference = MultiTracker(model, config, backend="torch")
    candidate = MultiTracker(model, config, backend=backend)
    assert candidate.backend.name == backend
    reference.init(0, frames[0], boxes[0])
    for frame in frames[1:]:
        candidate._targets, candidate._image_size = copy.deepcopy(reference._targets), reference.image_size
        expected, actual = reference.update(frame)[0], candidate.update(frame)[0]
        yield expected, actual, candidate._targets[0].film_context


def test_bfloat16_gives_float32_boxes_within_its_tolerance(shipped_model, sequence_frames):
    """
    The tracked box in bfloat16, with the target classifier off, on a distinct object (vot2015_bag).

    Not on Dudek's face: there neighbouring cells nearly tie, and any rounding may pick the other one. On a CPU with
    native bfloat16 arithmetic (AVX-512 BF16) frame 5 took the cell below (the box 12 px lower) while the network's
    outputs stayed within their tolerance (the next test, on both sequences): a near-tie decided the other way, as
    one float32 ulp decides some on other CPUs, not a loss of precision.
    """
    frames, boxes = sequence_frames("vot2015_bag", 10)
    worst_box = worst_confidence = 0.0
    for expected, actual, context in _teacher_forced(shipped_model, "torch-bf16", frames, boxes,
                                                     TrackerConfig(classifier_weight=0.0)):
        worst_box = max(worst_box, np.abs(np.subtract(expected.box, actual.box)).max() / max(expected.box[2:]))
        worst_confidence = max(worst_confidence, abs(expected.confidence - actual.confidence))
        assert context.dtype == np.float32
        assert expected.status == actual.status
    assert worst_box < BF16_BOX_TOLERANCE and worst_confidence < BF16_CONFIDENCE_TOLERANCE
    assert worst_confidence > 0      # bfloat16 really ran: float32 would agree to the last bit


@pytest.mark.parametrize("sequence", [SEQUENCE, "vot2015_bag"])
def test_bfloat16_gives_the_networks_float32_outputs_within_its_tolerance(shipped_model, sequence_frames, sequence):
    """
    The network's own precision: the same state and search crop through both, every frame of a float32 track.

    Scores agree within BF16_CONFIDENCE_TOLERANCE everywhere; where a box could be read (score > 0.3) the centre
    offset (in cells) and the size (relative) agree within BF16_BOX_TOLERANCE.
    """
    frames, boxes = sequence_frames(sequence, 10)
    config = TrackerConfig(classifier_weight=0.0)
    reference = MultiTracker(shipped_model, config, backend="torch")
    candidate = MultiTracker(shipped_model, config, backend="torch-bf16")
    reference.init(0, frames[0], boxes[0])
    differs = False
    for frame in frames[1:]:
        target = reference._targets[0]
        crop, _ = crop_and_resize(frame, target.box, config.search_factor, shipped_model.config.search_size)
        search = normalised_chw(crop)[None]
        expected = reference._network_step([target], search)
        actual = candidate._network_step([copy.deepcopy(target)], search)
        scores, candidate_scores = (1.0 / (1.0 + np.exp(-outputs[0])) for outputs in (expected, actual))
        assert np.abs(scores - candidate_scores).max() < BF16_CONFIDENCE_TOLERANCE
        readable = scores[0, 0] > 0.3
        assert readable.any()
        assert np.abs(expected[1] - actual[1])[0][:, readable].max() < BF16_BOX_TOLERANCE
        assert (np.abs(expected[2] - actual[2]) / expected[2])[0][:, readable].max() < BF16_BOX_TOLERANCE
        differs = differs or not np.array_equal(scores, candidate_scores)
        reference.update(frame)
    assert differs                   # bfloat16 really ran


def test_bfloat16_gives_the_classifiers_features_within_its_tolerance(shipped_model, real_frames):
    """The appearance features the target classifier reads: every cell's vector points the same way in bfloat16."""
    frames, boxes = real_frames
    reference, candidate = (MultiTracker(shipped_model, backend=name) for name in ("torch", "torch-bf16"))
    reference.init(0, frames[0], boxes[0])
    target = reference._targets[0]
    crop, _ = crop_and_resize(frames[1], boxes[0], reference.config.search_factor,
                              shipped_model.config.search_size)
    search = normalised_chw(crop)[None]
    expected = reference._network_step([target], search)[4][0]
    actual = candidate._network_step([target], search)[4][0]
    assert actual.dtype == np.float32
    cosine = (expected * actual).sum(axis=0) / (np.linalg.norm(expected, axis=0) * np.linalg.norm(actual, axis=0))
    assert cosine.min() > 0.99 and not np.array_equal(expected, actual)


def test_compiled_step_gives_the_eager_boxes(shipped_model, real_frames):
    """torch.compile (one graph for batch 1; on CUDA it would also capture CUDA graphs) computes the eager step."""
    frames, boxes = real_frames
    for expected, actual, _ in _teacher_forced(shipped_model, "torch-compile", frames[:4], boxes[:4]):
        assert np.abs(np.subtract(expected.box, actual.box)).max() < 0.05
        assert abs(expected.confidence - actual.confidence) < ONNX_TOLERANCE


def test_a_compiled_backend_keeps_every_batch_size_compiled(shipped_model):
    """
    Raise dynamo's limit of compiled variants per function, shared by every tracker of a process.

    At its default of 8, a new batch size past it ran eagerly under a compiled backend's name (a benchmark of 4
    models x 2 sizes, then 16 targets).
    """
    import torch._dynamo
    from viltrack_ros.tracking.backends import COMPILED_SHAPES_LIMIT, TorchBackend
    torch._dynamo.config.recompile_limit = 8
    TorchBackend(shipped_model, torch.device("cpu"), name="torch-compile")
    assert torch._dynamo.config.recompile_limit == COMPILED_SHAPES_LIMIT >= 32


def test_backend_names_are_checked(shipped_model):
    assert resolve_backend("torch-bf16", torch.device("cpu")) == "torch-bf16"
    with pytest.raises(ValueError, match="unknown backend 'torch-fp8'"):
        resolve_backend("torch-fp8", torch.device("cpu"))
    with pytest.raises(ValueError, match="unknown PyTorch backend 'onnxruntime'"):
        TorchBackend(shipped_model, torch.device("cpu"), name="onnxruntime")
    compiled = TorchBackend(shipped_model, torch.device("cpu"), name="torch-compile")
    assert hasattr(compiled.cached_step_module, "_orig_mod")     # torch.compile's wrapper, compiled lazily
    assert not hasattr(TorchBackend(shipped_model, torch.device("cpu")).cached_step_module, "_orig_mod")


def test_warm_up_compiles_the_step_and_leaves_the_targets_alone(shipped_model, real_frames):
    """
    The node warms its tracker up at start-up (the compile happens there, not on the first frame).

    The warm-up adds no target, and a target tracked across it gets the same box as without it.
    """
    frames, boxes = real_frames
    warmed = MultiTracker(shipped_model, backend="torch-compile")
    plain = MultiTracker(shipped_model, backend="torch")
    for tracker in (warmed, plain):
        tracker.init(0, frames[0], boxes[0])
        tracker.update(frames[1])
    warmed.warm_up()
    assert warmed.target_ids == [0]
    expected, actual = plain.update(frames[2])[0], warmed.update(frames[2])[0]
    assert np.abs(np.subtract(expected.box, actual.box)).max() < 0.05
