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
"""MixFormer's mixed-attention backbone (SEEDS.md section 4) in the same network, tracker and checkpoints as the ViL."""
import numpy as np
import pytest
import torch

from viltrack_ros.model import ModelConfig, build_model, get_preset
from viltrack_ros.model.checkpoint import load_checkpoint, save_checkpoint
from viltrack_ros.model.mixed_attention import FrozenBatchNorm2d
from viltrack_ros.model.mixformer import MixFormerBackbone
from viltrack_ros.model.network import count_parameters

TINY = ModelConfig(name="tiny_mixformer", backbone="mixformer", dim=32, depth=2, num_heads=2, patch_size=16,
                   template_size=32, search_size=64, num_templates=2, mlp_ratio=2.0, film_interval=0,
                   tmoe_blocks=1, num_experts=2, head_channels=16, drop_path_rate=0.0)
TINY_VIL = ModelConfig(name="tiny_vil", dim=32, depth=2, patch_size=16, template_size=32, search_size=64,
                       num_templates=2, mlp_ratio=2.0, film_interval=2, tmoe_blocks=1, num_experts=2,
                       head_channels=16, drop_path_rate=0.0)
# The ViL with its second block a mixed-attention block (test_vil_mixed_attention.py has its own tests).
TINY_VIL_MIX = TINY_VIL.replace(name="tiny_vil_mix", mixed_attention_every=2)


def _randomise_frozen_norms(model, seed=0):
    """Non-trivial fixed statistics, so a test can tell them from the identity they start as."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, FrozenBatchNorm2d):
            n = module.weight.numel()
            module.weight.copy_(1 + 0.2 * torch.randn(n, generator=generator))
            module.bias.copy_(0.1 * torch.randn(n, generator=generator))
            module.running_mean.copy_(0.1 * torch.randn(n, generator=generator))
            module.running_var.copy_(0.5 + torch.rand(n, generator=generator))


def _model(config=TINY, seed=0):
    torch.manual_seed(seed)
    model = build_model(config, pretrained_stem=False)
    with torch.no_grad():
        _randomise_frozen_norms(model, seed)
    return model.eval()


def test_asymmetric_attention_blocks_search_to_template_information():
    model = _model()
    torch.manual_seed(1)
    templates = torch.randn(2, 2, 3, 32, 32)
    search = torch.randn(2, 3, 64, 64)
    other_search = search.clone()
    other_search[:, :, 10:50, 5:60] = torch.randn(2, 3, 40, 55)
    with torch.no_grad():
        template_a, search_a = model.backbone(templates, search)
        template_b, search_b = model.backbone(templates, other_search)
        changed_template = templates.clone()
        changed_template[:, 0] += 1.0
        _, search_c = model.backbone(changed_template, search)
        online_changed = templates.clone()
        online_changed[:, 1] = torch.randn(2, 3, 32, 32)
        template_d, _ = model.backbone(online_changed, search)
    # Search pixels never reach the template tokens: bit for bit the same features.
    assert torch.equal(template_a, template_b)
    assert not torch.allclose(search_a, search_b)
    # The other directions do flow: the search reads the template, the initial template reads the online one.
    assert not torch.allclose(search_a, search_c)
    nt = (32 // 16) ** 2
    assert not torch.allclose(template_a[:, :nt], template_d[:, :nt])


def test_asymmetric_attention_holds_with_the_pretrained_stem_and_several_frames():
    config = get_preset("mixformer_hybrid").replace(depth=1, num_templates=2)
    model = _model(config)
    torch.manual_seed(2)
    templates = torch.randn(1, 2, 3, 80, 80)
    searches = torch.randn(1, 2, 3, 160, 160)
    with torch.no_grad():
        template_a, search_a = model.backbone(templates, searches)
        template_b, search_b = model.backbone(templates, torch.randn(1, 2, 3, 160, 160))
        # Each frame attends to the templates and to itself only: frame 0 alone gives frame 0's features.
        _, search_single = model.backbone(templates, searches[:, 0])
    assert torch.equal(template_a, template_b)
    torch.testing.assert_close(search_single, search_a[:, 0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("template_size,search_size,templates,frames", [
    (32, 64, 1, 1), (48, 96, 2, 1), (64, 64, 1, 3), (32, 128, 2, 2), (48, 80, 2, 1)])
def test_shapes_for_several_template_and_search_sizes(template_size, search_size, templates, frames):
    config = TINY.replace(template_size=template_size, search_size=search_size, num_templates=templates)
    model = _model(config)
    gt, gs = template_size // 16, search_size // 16
    template_in = torch.randn(2, templates, 3, template_size, template_size)
    search_in = torch.randn(2, frames, 3, search_size, search_size)
    with torch.no_grad():
        template_features, search_features = model.backbone(template_in, search_in)
        outputs = model(template_in, search_in)
        single = model(template_in, search_in[:, 0])
    assert template_features.shape == (2, templates * gt * gt, 32)
    assert search_features.shape == (2, frames, gs * gs, 32)
    assert outputs["score_logits"].shape == (2, frames, 1, gs, gs)
    assert outputs["size"].shape == (2, frames, 2, gs, gs)
    assert single["offset"].shape == (2, 2, gs, gs)
    # Keys and values at stride 2: a quarter of the tokens (rounded up per side).
    attention = model.backbone.blocks[0].attn
    grid = torch.randn(1, 32, gs, gs)
    assert attention.conv_k(grid).shape[1] == ((gs + 1) // 2) ** 2
    assert attention.conv_q(grid).shape[1] == gs * gs


def test_frozen_batch_norm_stays_frozen_in_training_mode():
    model = _model()
    model.train()
    norms = [m for m in model.modules() if isinstance(m, FrozenBatchNorm2d)]
    assert len(norms) == 3 * TINY.depth                   # q, k and v of every block
    assert all(not list(m.parameters()) for m in norms)  # buffers only: no optimizer can reach them
    before = [{k: v.clone() for k, v in m.state_dict().items()} for m in norms]
    weights_before = model.backbone.blocks[0].attn.conv_q.conv.weight.detach().clone()
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    torch.manual_seed(3)
    templates, search = torch.randn(4, 2, 3, 32, 32), torch.randn(4, 3, 64, 64)
    outputs = model(templates, search)
    loss = sum(v.pow(2).mean() for v in outputs.values())
    loss.backward()
    optimizer.step()
    model.train()
    for module, saved in zip(norms, before):
        for name, value in module.state_dict().items():
            assert torch.equal(value, saved[name]), name
    # The step did change the convolutions in front of the norms (the test can see a change when there is one).
    assert not torch.equal(model.backbone.blocks[0].attn.conv_q.conv.weight, weights_before)
    # Training mode normalises with the fixed statistics, not the batch's: the same output as in eval mode.
    block = model.backbone.blocks[0].attn.conv_k
    grid = torch.randn(4, 32, 4, 4) * 3 + 1
    block.train()
    train_out = block(grid)
    block.eval()
    assert torch.equal(train_out, block(grid))


def test_frozen_batch_norm_loads_a_regular_batch_norm_state():
    source = torch.nn.BatchNorm2d(4)
    source.running_mean.fill_(0.5)
    frozen = FrozenBatchNorm2d(4)
    frozen.load_state_dict(source.state_dict())        # num_batches_tracked is dropped, the rest loads
    assert torch.equal(frozen.running_mean, source.running_mean)
    x = torch.randn(2, 4, 3, 3)
    torch.testing.assert_close(frozen(x), source.eval()(x))


@pytest.mark.parametrize("config", [TINY, TINY_VIL, TINY_VIL_MIX], ids=["mixformer", "vil", "vil_mixed_attention"])
def test_checkpoint_of_each_backbone_round_trips(config, tmp_path):
    model = _model(config, seed=4)
    path = save_checkpoint(tmp_path / f"{config.backbone}.pt", model, trained=True, training={"note": "test"})
    loaded, info = load_checkpoint(path)
    assert loaded.config == config and info["model_config"]["backbone"] == config.backbone
    assert type(loaded.backbone) is type(model.backbone)
    torch.manual_seed(5)
    templates, search = torch.randn(2, 2, 3, 32, 32), torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = model(templates, search, update_context=False)
        got = loaded(templates, search, update_context=False)
    for name in expected:
        assert torch.equal(expected[name], got[name]), name


def test_checkpoints_written_before_the_backbone_setting_load_as_vil(tmp_path):
    path = save_checkpoint(tmp_path / "old.pt", _model(TINY_VIL), trained=False)
    payload = torch.load(path, weights_only=True)
    for key in ("backbone", "mix_kernel", "mix_kv_stride"):
        del payload["model_config"][key]
    torch.save(payload, path)
    loaded, _ = load_checkpoint(path)
    assert loaded.config.backbone == "vil"


def test_mixformer_hybrid_matches_the_vil_hybrid_parameter_count():
    vil = build_model("vil_hybrid", pretrained_stem=False)
    mix = build_model("mixformer_hybrid", pretrained_stem=False)
    assert isinstance(mix.backbone, MixFormerBackbone)

    def trained(m):
        return sum(p.numel() for p in m.parameters() if p.requires_grad)
    assert abs(count_parameters(mix) / count_parameters(vil) - 1) < 0.02
    assert abs(trained(mix) / trained(vil) - 1) < 0.02


def test_invalid_backbone_settings_are_named():
    with pytest.raises(ValueError, match="backbone must be one of"):
        TINY.replace(backbone="transformer")
    with pytest.raises(ValueError, match="divisible by num_heads"):
        TINY.replace(num_heads=5)
    with pytest.raises(ValueError, match="mix_kernel"):
        TINY.replace(mix_kernel=2)


def test_tracker_runs_the_mixformer_with_its_online_template():
    from viltrack_ros.tracking import TrackerConfig, ViLTracker
    model = _model(TINY)
    tracker = ViLTracker(model, TrackerConfig(update_threshold=0.0, update_interval=2))
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    tracker.init(frame, (60, 40, 24, 30))
    initial = np.asarray(tracker._multi._targets[0].templates).copy()
    for _ in range(4):
        box, confidence, status = tracker.update(np.roll(frame, 2, axis=1))
        assert len(box) == 4 and 0.0 <= confidence <= 1.0
    templates = np.asarray(tracker._multi._targets[0].templates)
    assert np.array_equal(templates[0], initial[0])         # the initial template stays
    assert not np.array_equal(templates[1], initial[1])     # the online template (second segment) was replaced


def test_harness_samples_the_online_template_near_the_search_frame():
    from viltrack_ros.training.experiment import ArmInputs, PairSampler
    from viltrack_ros.training.pair_cache import PairCache
    frames = 60
    sequence = np.repeat([0, 1, 2], frames)
    frame = np.tile(np.arange(frames) * 3, 3)
    cache = PairCache(templates=np.zeros((3 * frames, 8, 8, 3), np.uint8),
                      searches=np.zeros((3 * frames, 2, 8, 8, 3), np.uint8), boxes=np.zeros((3 * frames, 2, 4)),
                      sequence_index=sequence, frame_index=frame, sequence_names=["a", "b", "c"])
    sampler = PairSampler(cache, max_gap=9, negative_fraction=0.3, seed=0)
    template, search, jitter, visible, online = sampler.sample_with_online(200)
    anchor = np.where(visible[:, -1], search[:, -1], template)
    assert np.array_equal(sequence[online], sequence[template])          # the target's own sequence
    assert np.all(np.abs(frame[online] - frame[anchor]) <= 9)
    assert (~visible[:, 0]).any() and (online != template).mean() > 0.5
    # The network gets [template, online template] for 2-template models.
    inputs = ArmInputs.__new__(ArmInputs)
    inputs.cache, inputs.cfg, inputs.uses_features = cache, TINY.replace(template_size=32), False
    inputs.template_factor = 2.0
    cache.templates[online[0]] = 255
    templates = inputs.get(template[:1], search[:1], jitter[:1], online[:1])[0]
    assert templates.shape == (1, 2, 3, 32, 32)
    assert templates[0, 1].mean() > templates[0, 0].mean() or online[0] == template[0]


def test_bench_times_a_mixformer_checkpoint_next_to_a_variant(tmp_path):
    import subprocess
    import sys
    path = save_checkpoint(tmp_path / "arm" / "model.pt", _model(TINY), trained=False)
    result = subprocess.run([sys.executable, "-m", "viltrack_ros.cli", "bench", "--no-shipped", "--no-peers",
                             "--presets", "--compare", str(path), "--variant", "vil_cpu:depth=2",
                             "--tracker-set", "online_template_update=false",
                             "--frames", "2", "--warmup", "1", "--threads", "1"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    names = [line.split("|")[1].strip() for line in result.stdout.splitlines() if line.startswith("| ")][1:]
    # (one row per CPU backend where there are several; a ViL with a template memory is timed with and without it)
    assert list(dict.fromkeys(names)) == ["MixFormer tiny_mixformer (arm)", "ViL vil_cpu [depth=2] template memory",
                                          "ViL vil_cpu [depth=2] whole sequence"]


@pytest.mark.parametrize("config", [TINY, TINY_VIL_MIX], ids=["mixformer", "vil_mixed_attention"])
def test_mixed_attention_runs_the_same_through_onnxruntime(config):
    pytest.importorskip("onnxruntime")
    from viltrack_ros.model.export import example_step_inputs
    from viltrack_ros.tracking.backends import ONNX_TOLERANCE, OnnxRuntimeBackend, TorchBackend
    model = _model(config.replace(num_templates=2))
    # the whole-sequence graph (the template memory has its own tests: test_template_memory.py)
    onnx = OnnxRuntimeBackend(model, threads=1, cache=False, template_memory=False)
    reference = TorchBackend(model, torch.device("cpu"))
    torch.manual_seed(6)
    images = torch.randn(4, 3, 32, 32).numpy()
    templates = reference.encode_templates(images)
    np.testing.assert_allclose(onnx.encode_templates(images), templates, atol=ONNX_TOLERANCE)
    _, _, boxes, context, active = example_step_inputs(model, batch=2)
    inputs = (templates.reshape(2, 2, *templates.shape[1:]), torch.randn(2, 3, 64, 64).numpy(), boxes.numpy(),
              context.numpy(), active.numpy())
    for got, expected in zip(onnx.step(*inputs), reference.step(*inputs)):
        np.testing.assert_allclose(got, expected, atol=ONNX_TOLERANCE)
