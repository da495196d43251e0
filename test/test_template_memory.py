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
The template memory (issue 10: compute each frame's work once).

With scan order template_first the template side of the sequence never reads the frame, so the templates' per-block
states are computed once per template and every frame runs only the search tokens through those blocks: all blocks
when FiLM modulates the search tokens only (film_tokens 'search'), the blocks up to the first FiLM layer when it
modulates everything (the shipped model).
Same outputs as the whole sequence within float rounding, on real frames, through both backends, and the same
boxes in the tracker.
"""
import copy

import numpy as np
import pytest
import torch

from viltrack_ros.model import get_preset
from viltrack_ros.model.checkpoint import load_checkpoint, save_checkpoint
from viltrack_ros.model.export import CachedTrackingStep, TemplateMemory, TrackingStep, example_step_inputs
from viltrack_ros.model.network import ViLTrackNet
from viltrack_ros.tracking import MultiTracker, TrackerConfig, TrackStatus, ViLTracker
from viltrack_ros.tracking.backends import ONNX_TOLERANCE, TorchBackend

SEQUENCE = "vot2015_bag"
# Boxes of the memory path and the whole-sequence path from the same state: float rounding (1e-6 in the logits)
# must not move a box by more than this many pixels. Compared teacher-forced (each frame from the reference's
# state), because over a sequence a 1e-6 px difference in a box can change one uint8 pixel of the next crop.
BOX_TOLERANCE_PX = 0.05


def _model(preset: str = "vil_hybrid", shipped_weights: bool = False, **changes) -> ViLTrackNet:
    """
    Build a preset's model with a FiLM that is not the identity, so that the temporal context changes the output.

    It has the shipped weights when asked (vil_hybrid, whatever FiLM's token set).
    """
    config = get_preset(preset).replace(**changes)
    torch.manual_seed(0)
    model = ViLTrackNet(config)
    if shipped_weights:
        shipped, _ = load_checkpoint(None)
        model.load_state_dict(shipped.state_dict())
    for layer in model.backbone.film.layers:
        for p in layer.parameters():
            torch.nn.init.normal_(p, std=0.05)
    return model.eval()


def _search_film_model(**changes) -> ViLTrackNet:
    return _model("vil_hybrid", shipped_weights=not changes, film_tokens="search", **changes)


@pytest.fixture(scope="module")
def real_frames(sequences_root):
    from viltrack_ros.data.sequences import load_sequence_folder
    sequence = load_sequence_folder(sequences_root / SEQUENCE)
    return [sequence.read_frame(i) for i in range(15)], sequence.boxes[:15]


def test_which_blocks_a_model_caches():
    shipped, _ = load_checkpoint(None)
    assert shipped.config.film_tokens == "all" and shipped.backbone.template_memory_blocks == 2   # FiLM after block 1
    assert _search_film_model().backbone.template_memory_blocks == 4                              # all blocks
    plain = get_preset("vil_hybrid")
    assert ViLTrackNet(plain.replace(film_interval=0), pretrained_stem=False).backbone.template_memory_blocks == 3
    full_scan = ViLTrackNet(plain.replace(scan_order="alternate_full"), pretrained_stem=False)
    assert not full_scan.supports_template_memory
    with pytest.raises(ValueError, match="no template memory"):
        full_scan.backbone.template_memory(torch.zeros(1, 1, 3, 80, 80))


@pytest.mark.parametrize("preset,changes", [("vil_hybrid", {"film_tokens": "search"}),
                                            ("vil_hybrid", {"film_tokens": "all"}),
                                            ("vil_mix_hybrid", {"film_tokens": "search"}),
                                            ("vil_mix_hybrid", {"film_tokens": "all"}),
                                            ("vil_hybrid", {"film_tokens": "search", "num_templates": 2}),
                                            ("vil_hybrid", {"film_tokens": "all", "num_templates": 2}),
                                            ("vil_hybrid", {"film_tokens": "search", "depthwise_correlation": 16})],
                         ids=["vil_search_film", "vil_all_film", "mixed_attention_search_film",
                              "mixed_attention_all_film", "two_templates_search_film", "two_templates_all_film",
                              "depthwise_correlation"])
def test_memory_step_equals_the_whole_sequence_over_frames(preset, changes):
    """Three frames with the FiLM context carried: the cached step gives the whole-sequence step's outputs."""
    model = _model(preset, **changes)
    templates, _, boxes, context, active = example_step_inputs(model, batch=2)
    torch.manual_seed(1)
    templates = torch.randn_like(templates)
    searches = [torch.randn(2, 3, model.config.search_size, model.config.search_size) for _ in range(3)]
    plain, cached = TrackingStep(model), CachedTrackingStep(model)
    with torch.no_grad():
        memory = TemplateMemory(model)(templates, boxes)
        plain_context = cached_context = context
        plain_active = cached_active = active
        for search in searches:
            *expected, plain_context, plain_appearance = plain(templates, search, boxes, plain_context, plain_active)
            *got, cached_context, cached_appearance = cached(*memory, search, cached_context, cached_active)
            expected.append(plain_appearance)
            got.append(cached_appearance)
            plain_active = cached_active = torch.ones(2, dtype=torch.bool)
            for a, b in zip(expected, got):
                torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
            torch.testing.assert_close(plain_context, cached_context, atol=1e-5, rtol=0)
    assert not torch.allclose(expected[0], plain(templates, searches[-1], boxes, context, active)[0])


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
@pytest.mark.parametrize("film_tokens", ["all", "search"])
def test_tracker_boxes_with_the_memory_equal_the_whole_sequence_on_real_frames(backend, film_tokens, real_frames):
    if backend == "onnxruntime":
        pytest.importorskip("onnxruntime")
    frames, boxes = real_frames
    model = _model(shipped_weights=True, film_tokens=film_tokens)
    reference = ViLTracker(copy.deepcopy(model), backend="torch", template_memory=False)
    tracker = ViLTracker(model, backend=backend)
    assert tracker._multi.backend.uses_template_memory
    assert not reference._multi.backend.uses_template_memory
    reference.init(frames[0], boxes[0])
    tracker.init(frames[0], boxes[0])
    for frame in frames[1:]:
        _take_state(tracker._multi, reference._multi)
        expected, got = reference.update(frame), tracker.update(frame)
        np.testing.assert_allclose(got.box, expected.box, atol=BOX_TOLERANCE_PX)
        assert abs(got.confidence - expected.confidence) < ONNX_TOLERANCE
        assert got.status == expected.status


def _take_state(candidate: MultiTracker, reference: MultiTracker) -> None:
    """Teacher forcing: the candidate's targets continue from the reference's state, keeping their own memory."""
    for target_id, target in reference._targets.items():
        memory = candidate._targets[target_id].memory
        candidate._targets[target_id] = copy.deepcopy(target)
        candidate._targets[target_id].memory = memory


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_batched_targets_with_the_memory_equal_each_target_alone(backend, real_frames):
    """
    Several targets in one batch, each with its own memory: the same boxes as one tracker per target.

    The exported graphs keep their batch axis dynamic.
    """
    if backend == "onnxruntime":
        pytest.importorskip("onnxruntime")
    frames, boxes = real_frames
    model = _model(shipped_weights=True)
    batched = MultiTracker(model, backend=backend)
    starts = {0: boxes[0], 1: np.asarray(boxes[0]) + [20, 10, 0, 0], 2: np.asarray(boxes[0]) * [1, 1, 0.6, 0.6]}
    alone = {}
    for target_id, box in starts.items():
        batched.init(target_id, frames[0], box)
        alone[target_id] = ViLTracker(copy.deepcopy(model), backend="torch", template_memory=False)
        alone[target_id].init(frames[0], box)
    for frame in frames[1:6]:
        for target_id, tracker in alone.items():
            memory = batched._targets[target_id].memory
            batched._targets[target_id] = copy.deepcopy(tracker._multi._targets[ViLTracker.TARGET_ID])
            batched._targets[target_id].memory = memory
        results = batched.update(frame)
        for target_id, tracker in alone.items():
            np.testing.assert_allclose(results[target_id].box, tracker.update(frame).box, atol=BOX_TOLERANCE_PX)


def test_online_template_update_recomputes_the_memory(real_frames):
    frames, boxes = real_frames
    from viltrack_ros.tracking.config import TrackerConfig
    config = TrackerConfig(update_interval=2, update_threshold=0.0)
    model = _model(num_templates=2)
    tracker = MultiTracker(model, config, backend="torch")
    reference = MultiTracker(copy.deepcopy(model), config, backend="torch", template_memory=False)
    for t in (tracker, reference):
        t.init(0, frames[0], boxes[0])
    first_memory = tracker._targets[0].memory
    for frame in frames[1:6]:
        # teacher forcing with the reference's templates: the memory must follow them
        tracker._targets[0] = copy.deepcopy(reference._targets[0])
        tracker._encode_memory(tracker._targets[0])
        got, expected = tracker.update(frame)[0], reference.update(frame)[0]
        np.testing.assert_allclose(got.box, expected.box, atol=BOX_TOLERANCE_PX)
    # the template update happened and rebuilt the memory (an update at frame 4 inside tracker.update)
    assert not np.array_equal(tracker._targets[0].templates[1], tracker._targets[0].templates[0])
    assert any(not np.array_equal(a, b) for a, b in zip(first_memory, tracker._targets[0].memory))
    updated = copy.deepcopy(tracker._targets[0])
    tracker._encode_memory(updated)
    for a, b in zip(updated.memory, tracker._targets[0].memory):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_onnx_export_writes_the_memory_graphs_and_the_cli_describes_them(tmp_path):
    pytest.importorskip("onnxruntime")
    import json
    from viltrack_ros.cli import main
    path = save_checkpoint(tmp_path / "search_film.pt", _search_film_model(), trained=True, training={"note": "t"})
    assert main(["export", "--weights", str(path), "--onnx", str(tmp_path / "onnx")]) == 0
    written = sorted(p.name for p in (tmp_path / "onnx").iterdir())
    assert written == ["cached_step.onnx", "model.json", "template_encoder.onnx", "template_memory.onnx",
                       "tracking_step.onnx"]
    description = json.loads((tmp_path / "onnx" / "model.json").read_text())
    assert list(description["cached_step.onnx"]["inputs"])[-3:] == ["searches", "context", "active"]
    # What model.json says each graph takes and gives is what onnxruntime finds in it, names and ranks.
    import onnxruntime as ort
    for name in written[:1] + written[2:]:
        session = ort.InferenceSession(str(tmp_path / "onnx" / name), providers=["CPUExecutionProvider"])
        for said, found in ((description[name]["inputs"], session.get_inputs()),
                            (description[name]["outputs"], session.get_outputs())):
            assert {n: len(shape) for n, shape in said.items()} == {v.name: len(v.shape) for v in found}, name
        # Every output is declared as (batch, fixed sizes), the sizes it has when run (the tracer's own inference
        # named fixed sizes after operators, and the appearance map's height 'batch'), at a batch of 3.
        dtypes = {"tensor(float)": np.float32, "tensor(bool)": np.bool_, "tensor(int64)": np.int64}
        feeds = {i.name: np.zeros([3 if isinstance(d, str) else d for d in i.shape], dtypes[i.type])
                 for i in session.get_inputs()}
        for declared, result in zip(session.get_outputs(), session.run(None, feeds)):
            assert isinstance(declared.shape[0], str) and all(isinstance(d, int) for d in declared.shape[1:]), \
                (name, declared.name, declared.shape)
            assert [3, *declared.shape[1:]] == list(result.shape), (name, declared.name)


def test_an_export_into_an_older_export_s_folder_leaves_none_of_its_graphs(tmp_path):
    from viltrack_ros.model.export import export_onnx
    pytest.importorskip("onnx")
    for name in ("template_memory.onnx", "cached_step.onnx"):
        (tmp_path / name).write_bytes(b"from a model with template memory")
    model = _model(scan_order="alternate_full")          # no template memory: the whole sequence every frame
    assert not model.supports_template_memory
    graphs = export_onnx(model, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(graphs) == ["template_encoder.onnx",
                                                                            "tracking_step.onnx"]


def test_torch_backend_refuses_nothing_and_runs_both_paths():
    model = _search_film_model()
    backend = TorchBackend(model, torch.device("cpu"))
    templates, searches, boxes, context, active = (t.numpy() for t in example_step_inputs(model))
    memory = backend.encode_memory(templates, boxes)
    got = backend.step_with_memory(memory, searches, context, active)
    expected = backend.step(templates, searches, boxes, context, active)
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_a_relative_size_head_starts_from_the_given_boxs_shape_and_caches_it():
    """
    size_prior 'template_box': the head's sizes are the template box's times a learned factor.

    The factor is at first exactly half (the search crop is twice the template crop). A taller given box therefore
    gives taller sizes at every cell; the template memory carries the box, and its step equals the whole-sequence step.
    """
    model = _model("vil_hybrid", size_prior="template_box")
    templates, search, boxes, context, active = example_step_inputs(model, batch=2)
    boxes = torch.tensor([[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.25, 0.8]])
    with torch.no_grad():
        *outputs, _ = TrackingStep(model)(templates, search, boxes, context, active)
        size = outputs[2]
        torch.testing.assert_close(size, (boxes[:, 2:4] / 2)[:, :, None, None].expand_as(size))
        for layer in (model.head.size[-1],):
            torch.nn.init.normal_(layer.weight, std=0.05)
        memory = TemplateMemory(model)(templates, boxes)
        assert len(memory) == model.template_memory_size
        *expected, _ = TrackingStep(model)(templates, search, boxes, context, active)
        *got, _ = CachedTrackingStep(model)(*memory, search, context, active)
    for a, b in zip(expected, got):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    assert not torch.allclose(expected[2], size)
    with pytest.raises(ValueError, match="template_boxes"):
        model(templates, search, template_stem_given=True)


def test_a_template_update_inside_update_rebuilds_the_template_memory(small_checkpoint):
    config = TrackerConfig(update_interval=1, update_threshold=0.0)
    multi = MultiTracker.from_checkpoint(small_checkpoint, config=config, backend="torch")
    assert multi.backend.uses_template_memory
    rng = np.random.default_rng(0)
    image, later = (rng.integers(0, 256, (120, 160, 3), dtype=np.uint8) for _ in range(2))
    multi.init(0, image, (40, 40, 30, 30))
    target = multi._targets[0]
    before = target.templates.copy()
    assert multi.update(later)[0].status == TrackStatus.TRACKING
    assert not np.array_equal(target.templates[1], before[1])          # the update happened
    fresh = copy.deepcopy(target)
    multi._encode_memory(fresh)
    for got, expected in zip(target.memory, fresh.memory):
        np.testing.assert_allclose(got, expected, atol=1e-6)
