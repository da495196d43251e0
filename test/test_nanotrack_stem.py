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
NanoTrack v2's backbone as a frozen stem.

Its ONNX graph run as PyTorch operations gives onnxruntime's features,
the stem reads the tracker's normalised RGB crops as NanoTrack's BGR pixels, and a hybrid ViL on it is a network
like any other (template memory, checkpoint).
"""
import numpy as np
import pytest
import torch

from viltrack_ros.model import ModelConfig
from viltrack_ros.model.nanotrack_stem import NANOTRACK_CHANNELS, nanotrack_backbone_file
from viltrack_ros.model.network import ViLTrackNet
from viltrack_ros.model.onnx_graph import OnnxGraphModule
from viltrack_ros.tracking.tracker import normalised_chw

NANO_HYBRID = ModelConfig(name="nano_hybrid_test", dim=32, depth=2, stem="nanotrack_v2", patch_size=16,
                          template_size=48, search_size=96, film_interval=2, tmoe_blocks=1, num_experts=2,
                          mlp_ratio=2.0, head_channels=16, drop_path_rate=0.0, correlation_cells=2)


@pytest.fixture(scope="module")
def backbone_file():
    try:
        return nanotrack_backbone_file()
    except FileNotFoundError as error:
        pytest.skip(str(error))


def test_the_graph_as_torch_operations_gives_onnxruntime_s_features(backbone_file, sequence_frames):
    import cv2
    import onnxruntime
    frames, _ = sequence_frames("Crossing", 1)
    crop = cv2.resize(frames[0], (255, 255))[:, :, ::-1].astype(np.float32)   # BGR 0-255 at the graph's 255 px
    pixels = crop.transpose(2, 0, 1)[None]
    session = onnxruntime.InferenceSession(str(backbone_file), providers=["CPUExecutionProvider"])
    reference = session.run(None, {session.get_inputs()[0].name: pixels})[0]
    with torch.no_grad():
        ours = OnnxGraphModule(backbone_file)(torch.from_numpy(pixels)).numpy()
    assert ours.shape == reference.shape == (1, NANOTRACK_CHANNELS, 16, 16)
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-4 * np.abs(reference).max())


def test_the_graph_keeps_any_batch_and_size_the_convolutions_allow(backbone_file):
    graph = OnnxGraphModule(backbone_file)
    with torch.no_grad():
        assert graph(torch.rand(3, 3, 160, 160) * 255).shape == (3, NANOTRACK_CHANNELS, 10, 10)


def test_an_unsupported_operator_is_refused_at_load_time(tmp_path):
    import onnx
    from onnx import TensorProto, helper
    node = helper.make_node("Softmax", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])])
    path = tmp_path / "softmax.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(ValueError, match="Softmax"):
        OnnxGraphModule(path)


def test_the_stem_reads_tracker_normalised_rgb_as_nanotrack_s_bgr_pixels(backbone_file, sequence_frames):
    model = ViLTrackNet(NANO_HYBRID)
    stem = model.backbone.patch_embed
    frames, _ = sequence_frames("Crossing", 1)
    crop = np.ascontiguousarray(frames[0][:96, :96])
    with torch.no_grad():
        ours = stem.stem_features(torch.from_numpy(normalised_chw(crop)).unsqueeze(0))
        reference = stem.body(torch.from_numpy(crop[:, :, ::-1].astype(np.float32).copy()).permute(2, 0, 1)[None])
    assert ours.shape == (1, NANOTRACK_CHANNELS, 6, 6)
    torch.testing.assert_close(ours, reference, rtol=1e-4, atol=1e-3)


def test_only_the_projection_and_what_follows_train(backbone_file):
    model = ViLTrackNet(NANO_HYBRID).train()
    stem = model.backbone.patch_embed
    assert not any(p.requires_grad for p in stem.body.parameters())
    assert not stem.body.training                      # nothing in it changes with train()
    assert all(p.requires_grad for p in stem.proj.parameters())


def test_a_network_on_it_gives_the_same_outputs_from_its_template_memory_and_its_checkpoint(backbone_file, tmp_path):
    torch.manual_seed(0)
    model = ViLTrackNet(NANO_HYBRID.replace(film_tokens="search")).eval()
    templates, searches = torch.randn(2, 1, 3, 48, 48), torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        whole = model(templates, searches)
        cached = model.track_with_memory(model.template_memory(templates), searches)
    for name in ("score_logits", "offset", "size", "appearance"):
        torch.testing.assert_close(cached[name], whole[name], rtol=1e-4, atol=1e-5)
    assert whole["appearance"].shape == (2, NANOTRACK_CHANNELS, 6, 6)
    torch.save(model.state_dict(), tmp_path / "model.pt")
    reloaded = ViLTrackNet(NANO_HYBRID.replace(film_tokens="search")).eval()
    reloaded.load_state_dict(torch.load(tmp_path / "model.pt", weights_only=True))
    with torch.no_grad():
        torch.testing.assert_close(reloaded(templates, searches)["score_logits"], whole["score_logits"])


@pytest.mark.parametrize("change", [{"patch_size": 8, "template_size": 48, "search_size": 96},
                                    {"freeze_stem": False}])
def test_the_stem_is_stride_16_and_frozen_whole(change):
    with pytest.raises(ValueError, match="nanotrack_v2 stem"):
        NANO_HYBRID.replace(**change)


def test_a_missing_backbone_file_names_where_it_was_looked_for(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path)):
        nanotrack_backbone_file(tmp_path)
