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
The network's two deployment functions (model.export) and the tracker's backends (tracking.backends).

The onnxruntime path gives the PyTorch path's outputs within ONNX_TOLERANCE on real frames, and the same boxes.
"""
import copy
import json
import os

import numpy as np
import pytest
import torch

from viltrack_ros.model.checkpoint import load_checkpoint
from viltrack_ros.model.export import TrackingStep, context_tokens, example_step_inputs
from viltrack_ros.tracking import MultiTracker, ViLTracker
from viltrack_ros.tracking.backends import (ONNX_TOLERANCE, OnnxRuntimeBackend, TorchBackend,
                                            resolve_backend)
from viltrack_ros.tracking.crop import crop_and_resize
from viltrack_ros.tracking.tracker import normalised_chw

pytest.importorskip("onnxruntime")

SEQUENCE = "vot2015_bag"


@pytest.fixture(scope="module")
def trained_stem_model(shipped_model):
    """
    Give the shipped network with its stem's last 3 blocks trained (ModelConfig.stem_trained_blocks).

    The export folds those blocks' current weights, not ImageNet's.
    """
    from viltrack_ros.model.network import ViLTrackNet
    model = ViLTrackNet(shipped_model.config.replace(stem_trained_blocks=3), pretrained_stem=False)
    model.load_state_dict(shipped_model.state_dict())
    with torch.no_grad():
        model.backbone.patch_embed.body._blocks[10]._project_conv.weight.mul_(1.2)   # as a training step would
    return model.eval()


@pytest.fixture(scope="module")
def depthwise_model(shipped_model):
    """
    Give the shipped backbone under a head that also reads a learned depthwise correlation.

    The correlation is ModelConfig.depthwise_correlation; its layers and the head are at a random initialisation.
    """
    from viltrack_ros.model.network import ViLTrackNet
    torch.manual_seed(0)
    model = ViLTrackNet(shipped_model.config.replace(depthwise_correlation=16), pretrained_stem=False)
    model.backbone.load_state_dict(shipped_model.backbone.state_dict())
    return model.eval()


@pytest.fixture(scope="module")
def real_frames(sequence_frames):
    return sequence_frames(SEQUENCE, 12)


def test_tracking_step_equals_the_network_with_its_film_module_state(shipped_model):
    """The explicit-context step is the same function as the network driven through its FiLM module state."""
    model = copy.deepcopy(shipped_model)
    templates, _, boxes, context, active = example_step_inputs(model, batch=2)
    torch.manual_seed(0)
    searches = [torch.randn(2, 3, model.config.search_size, model.config.search_size) for _ in range(3)]
    step = TrackingStep(model)
    with torch.no_grad():
        model.reset_temporal_state()
        stateful = []
        for search in searches:
            out = model(templates, search, template_stem_given=True, template_boxes=boxes)
            stateful.append((out["score_logits"], out["size"]))
        explicit = []
        for search in searches:
            logits, _, size, context, _ = step(templates, search, boxes, context, active)
            active = torch.ones(2, dtype=torch.bool)
            explicit.append((logits, size))
    assert model.backbone.film.state.context is None          # the step leaves no state in the module
    for (a_logits, a_size), (b_logits, b_size) in zip(stateful, explicit):
        torch.testing.assert_close(a_logits, b_logits, atol=1e-5, rtol=0)
        torch.testing.assert_close(a_size, b_size, atol=1e-5, rtol=0)
    assert not torch.allclose(explicit[0][0], explicit[1][0])   # the context changed the second step


@pytest.mark.parametrize("model_name", ["shipped_model", "trained_stem_model", "depthwise_model"])
def test_onnxruntime_outputs_equal_torch_on_real_frames(model_name, real_frames, request):
    shipped_model = request.getfixturevalue(model_name)
    frames, boxes = real_frames
    # the whole-sequence step here (the template memory has its own tests: test_template_memory.py)
    torch_backend = TorchBackend(shipped_model, torch.device("cpu"), template_memory=False)
    onnx_backend = OnnxRuntimeBackend(shipped_model, template_memory=False)
    cfg = shipped_model.config
    template_crop, _ = crop_and_resize(frames[0], boxes[0], 2.0, cfg.template_size)
    template_image = normalised_chw(template_crop)[None]
    template_torch = torch_backend.encode_templates(template_image)
    assert np.abs(template_torch - onnx_backend.encode_templates(template_image)).max() < ONNX_TOLERANCE
    templates = template_torch[None]
    template_box = np.array([[0.5, 0.5, 0.45, 0.55]], dtype=np.float32)
    context = np.zeros((1, context_tokens(shipped_model), cfg.dim), dtype=np.float32)
    active = np.array([False])
    worst = 0.0
    for frame, box in zip(frames[1:], boxes[1:]):
        search_crop, _ = crop_and_resize(frame, box, 4.0, cfg.search_size)
        search = normalised_chw(search_crop)[None]
        expected = torch_backend.step(templates, search, template_box, context, active)
        actual = onnx_backend.step(templates, search, template_box, context, active)
        worst = max(worst, *(float(np.abs(e - a).max()) for e, a in zip(expected, actual)))
        context, active = expected[3], np.array([True])        # both continue from the same context
    assert worst < ONNX_TOLERANCE, f"largest difference {worst:.2e}"


@pytest.mark.parametrize("model_name", ["shipped_model", "trained_stem_model"])
def test_both_backends_give_the_same_box_for_the_same_state(model_name, real_frames, request):
    """
    Teacher-forced: before every frame the onnxruntime tracker takes the PyTorch tracker's state.

    Any box difference is therefore one step's, not an accumulated drift (a near tie between two cells can flip over
    many frames).
    """
    shipped_model = request.getfixturevalue(model_name)
    frames, boxes = real_frames
    reference = MultiTracker(shipped_model, backend="torch")
    candidate = MultiTracker(shipped_model, backend="onnxruntime")
    assert candidate.backend.name == "onnxruntime"
    reference.init(0, frames[0], boxes[0])
    for frame in frames[1:]:
        candidate._targets, candidate._image_size = copy.deepcopy(reference._targets), reference.image_size
        expected, actual = reference.update(frame)[0], candidate.update(frame)[0]
        assert np.abs(np.subtract(expected.box, actual.box)).max() < 0.05
        assert abs(expected.confidence - actual.confidence) < ONNX_TOLERANCE
        assert expected.status == actual.status


def test_batched_onnx_targets_match_single_ones(shipped_model, real_frames):
    frames, boxes = real_frames
    multi = MultiTracker(shipped_model, backend="onnxruntime")
    singles = [ViLTracker(shipped_model, backend="onnxruntime") for _ in range(3)]
    starts = [boxes[0], boxes[0] + np.array([-20, 10, 0, 0]), boxes[0] + np.array([15, -10, 10, 5])]
    for i, (single, box) in enumerate(zip(singles, starts)):
        multi.init(i, frames[0], box)
        single.init(frames[0], box)
    for frame in frames[1:5]:
        together = multi.update(frame)
        for i, single in enumerate(singles):
            assert np.allclose(together[i].box, single.update(frame).box, atol=0.05)


def test_export_cli_writes_models_that_run_in_onnxruntime(tmp_path, small_checkpoint):
    import onnxruntime as ort
    from viltrack_ros.cli import main
    assert main(["export", "--onnx", str(tmp_path), "--weights", str(small_checkpoint)]) == 0
    description = json.loads((tmp_path / "model.json").read_text())
    assert description["model_config"]["name"] == "test_small"
    model, _ = load_checkpoint(small_checkpoint)
    inputs = example_step_inputs(model, batch=3)
    session = ort.InferenceSession(str(tmp_path / "tracking_step.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    feeds = dict(zip(("templates", "searches", "template_boxes", "context", "active"), inputs))
    outputs = session.run(None, {n: feeds[n].numpy() for n in names})
    with torch.no_grad():
        expected = TrackingStep(model)(*inputs)
    for e, a in zip(expected, outputs):
        assert e.shape == a.shape                       # batch 3 through a graph traced at batch 1
        assert np.abs(e.numpy() - a).max() < ONNX_TOLERANCE


def test_the_export_is_cached_per_checkpoint(small_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("VILTRACK_ONNX_CACHE", str(tmp_path))
    model, _ = load_checkpoint(small_checkpoint)
    OnnxRuntimeBackend(model)
    cached = list(tmp_path.glob("*/tracking_step.onnx"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    OnnxRuntimeBackend(model)                            # the same weights: read back, not exported again
    assert list(tmp_path.glob("*/tracking_step.onnx")) == cached and cached[0].stat().st_mtime_ns == stamp
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.head.score[-1].bias.add_(1.0)
    OnnxRuntimeBackend(changed)                          # other weights: another export, not the cached one
    assert len(list(tmp_path.glob("*/tracking_step.onnx"))) == 2


def test_the_cache_keeps_the_exports_used_last(small_checkpoint, tmp_path, monkeypatch):
    """A new export removes the least recently used beyond ONNX_CACHE_ENTRIES; a read counts as a use."""
    from viltrack_ros.tracking.backends import ONNX_CACHE_ENTRIES, _model_digest
    monkeypatch.setenv("VILTRACK_ONNX_CACHE", str(tmp_path))
    model, _ = load_checkpoint(small_checkpoint)
    OnnxRuntimeBackend(model)
    in_use = tmp_path / _model_digest(model)
    stale = []
    for age in range(ONNX_CACHE_ENTRIES + 2):               # earlier exports, each older than the last
        folder = tmp_path / f"{age:020x}"
        folder.mkdir()
        (folder / "tracking_step.onnx").write_bytes(b"an old export")
        os.utime(folder, (1e9 - age, 1e9 - age))
        stale.append(folder)
    os.utime(in_use, (1e9 - 100, 1e9 - 100))                 # the oldest of all, until it is read again
    (tmp_path / "notes").mkdir()                              # not an export: never touched
    os.utime(tmp_path / "notes", (1.0, 1.0))
    OnnxRuntimeBackend(model)                                 # a read: now the most recent
    assert in_use.stat().st_mtime > 1e9
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.head.score[-1].bias.add_(1.0)
    OnnxRuntimeBackend(changed)                               # a new export: the cache is pruned
    kept = {p.name for p in tmp_path.iterdir()}
    assert {in_use.name, _model_digest(changed), "notes"} <= kept
    assert kept == {in_use.name, _model_digest(changed), "notes", *(f.name for f in stale[:ONNX_CACHE_ENTRIES - 2])}


def test_the_cache_key_follows_what_the_graph_is_traced_from(shipped_model, tmp_path, monkeypatch):
    """A stem constant outside the checkpoint, or the model's code, changed: not the cached graph (it once was)."""
    from viltrack_ros.model import export
    from viltrack_ros.tracking.backends import _model_digest
    model = shipped_model
    key = _model_digest(model)
    assert _model_digest(copy.deepcopy(model)) == key
    changed = copy.deepcopy(model)
    (name, buffer), *_ = [(n, b) for n, b in changed.named_buffers() if n not in changed.state_dict()]
    buffer.add_(1e-6)                                   # a non-persistent buffer: the checkpoint does not hold it
    assert _model_digest(changed) != key, name
    code = tmp_path / "model"
    code.mkdir()
    for source in export.MODEL_CODE.glob("*.py"):
        (code / source.name).write_bytes(source.read_bytes())
    assert export.model_code_digest(code) == export.model_code_digest()
    with open(code / "inputs.py", "a") as edited:
        edited.write("# one more line\n")
    edited_digest = export.model_code_digest(code)
    assert edited_digest != export.model_code_digest()
    monkeypatch.setattr("viltrack_ros.tracking.backends.model_code_digest", lambda: edited_digest)
    assert _model_digest(model) != key


@pytest.mark.parametrize("graph", ["tracking_step.onnx", "cached_step.onnx"])
def test_a_damaged_cache_entry_is_exported_again(graph, small_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("VILTRACK_ONNX_CACHE", str(tmp_path))
    model, _ = load_checkpoint(small_checkpoint)
    template_memory = graph == "cached_step.onnx"
    assert model.supports_template_memory
    OnnxRuntimeBackend(model, template_memory=template_memory)
    (cached,) = tmp_path.glob(f"*/{graph}")
    cached.write_bytes(b"not an onnx model")                    # e.g. a disk that lost a block
    backend = OnnxRuntimeBackend(model, template_memory=template_memory)
    templates, searches, boxes, context, active = (t.numpy() for t in example_step_inputs(model))
    with torch.no_grad():
        expected = TrackingStep(model)(*example_step_inputs(model))
    if template_memory:
        actual = backend.step_with_memory(backend.encode_memory(templates, boxes), searches, context, active)
    else:
        actual = backend.step(templates, searches, boxes, context, active)
    assert np.abs(expected[0].numpy() - actual[0]).max() < ONNX_TOLERANCE
    assert cached.read_bytes() != b"not an onnx model"           # the cache holds the fresh export again


def test_backend_choice_is_checked():
    cpu = torch.device("cpu")
    assert resolve_backend("auto", cpu) == "onnxruntime"
    assert resolve_backend("torch", cpu) == "torch"
    with pytest.raises(ValueError, match="unknown backend"):
        resolve_backend("tensorrt", cpu)
    with pytest.raises(ValueError, match="runs on the CPU"):
        resolve_backend("onnxruntime", torch.device("cuda"))


def test_the_thread_count_given_to_the_tracker_reaches_both_runtimes(shipped_model):
    before = torch.get_num_threads()
    try:
        tracker = MultiTracker(shipped_model, backend="onnxruntime", threads=1)
        assert torch.get_num_threads() == 1
        sessions = (tracker.backend.encoder, tracker.backend.session)
        assert [s.get_session_options().intra_op_num_threads for s in sessions] == [1, 1]
        torch.set_num_threads(2)   # None keeps PyTorch's count, which onnxruntime then takes
        tracker = MultiTracker(shipped_model, backend="onnxruntime")
        assert tracker.backend.session.get_session_options().intra_op_num_threads == 2
        for wrong in (0, -1, 1.5, True, "2", 10_000):
            with pytest.raises(ValueError, match="threads must be a whole number from 1 to"):
                MultiTracker(shipped_model, backend="torch", threads=wrong)
        # The count is process-wide: a tracker refused for another argument leaves it as it was.
        with pytest.raises(TypeError, match="config must be a TrackerConfig"):
            MultiTracker(shipped_model, backend="torch", threads=1, config="fast")
        with pytest.raises(ValueError):
            MultiTracker(shipped_model, backend="torch", threads=1, config={"window_influence": 5})
        with pytest.raises(ValueError, match="unknown backend"):
            MultiTracker(shipped_model, backend="nope", threads=1)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_trackers_sharing_one_model_in_two_threads_track_as_one_at_a_time(shipped_model, sequence_frames):
    """The torch step hands the FiLM context over as module state: two threads on one model read each other's."""
    import threading
    frames, boxes = sequence_frames("Crossing", 14)
    starts = {"a": 0, "b": 5}

    def run(tracker, start):
        tracker.init(frames[start], boxes[start])
        return [tracker.update(frame).box for frame in frames[start + 1:start + 9]]
    alone = {key: run(ViLTracker(shipped_model, backend="torch", threads=1), start) for key, start in starts.items()}
    together, errors = {}, []

    def worker(key):
        try:
            together[key] = run(ViLTracker(shipped_model, backend="torch", threads=1), starts[key])
        except Exception as error:   # noqa: BLE001 - reported below, with the thread's result missing
            errors.append(error)
    threads = [threading.Thread(target=worker, args=(key,)) for key in starts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    for key in starts:
        np.testing.assert_allclose(together[key], alone[key], atol=1e-3)


def test_the_export_cache_key_takes_any_precision_and_stale_partial_files_go(tmp_path, shipped_model):
    import time
    from viltrack_ros.tracking.backends import STALE_PARTIAL_S, _model_digest, remove_stale_partial_files
    as_bf16 = copy.deepcopy(shipped_model).to(torch.bfloat16)       # numpy has no bfloat16: the key failed
    assert _model_digest(as_bf16) != _model_digest(shipped_model)
    old, fresh = tmp_path / "tracking_step.onnx.1234.tmp", tmp_path / "tracking_step.onnx.5678.tmp"
    for partial in (old, fresh):
        partial.write_bytes(b"half")
    long_ago = time.time() - 2 * STALE_PARTIAL_S
    os.utime(old, (long_ago, long_ago))
    remove_stale_partial_files(tmp_path)
    assert not old.exists() and fresh.exists()      # a live writer's file is left alone
