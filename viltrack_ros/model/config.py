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
"""Model configuration and named presets: the one home of network hyper-parameters."""
from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, fields, replace

from ..settings import dataclass_from_dict, is_whole_number
from .efficientnet_lite import STRIDE_CUTS
from .mlstm_layer import CELL_FORMS as CELL_FUNCTIONS

SCAN_ORDERS = ("alternate_full", "template_first")
CELL_FORMS = tuple(CELL_FUNCTIONS)   # the mLSTM layer's own list: a form is valid where the layer has it
# "patch": the seeds' single patch convolution (kernel = stride = patch_size), trained from scratch.
# "efficientnet_lite0": ImageNet-pretrained EfficientNet-Lite0 stages up to stride patch_size (16: 112 channels,
# 8: 40 channels) and a 1x1 projection to dim (a hybrid ViL); the ViL blocks, FiLM and TMoE are unchanged.
# "nanotrack_v2": NanoTrack v2's backbone (trained for tracking; 48 channels at stride 16, frozen; read from its ONNX
# file, model/nanotrack_stem.py) in the same place.
STEMS = ("patch", "efficientnet_lite0", "nanotrack_v2")
# "vil": the product's Vision-LSTM blocks (SEEDS.md sections 1-3). "mixformer": MixFormer's mixed-attention blocks
# (SEEDS.md section 4) on the same stem, embeddings and head, for comparison (docs/MODEL.md).
BACKBONES = ("vil", "mixformer")
CORRELATION_KERNELS = ("center", "target_box")
SIZE_PRIORS = ("none", "template_box")
FILM_TOKENS = ("all", "search")


@dataclass(frozen=True)
class ModelConfig:
    name: str = "custom"
    backbone: str = "vil"
    dim: int = 192
    depth: int = 12
    patch_size: int = 16
    template_size: int = 128
    search_size: int = 256
    num_templates: int = 1          # 2 = initial + online template (MixFormer-style update)
    num_heads: int = 4              # mLSTM heads (vil) or attention heads (mixformer)
    proj_factor: float = 2.0
    qkv_blocksize: int = 4
    conv_kernel: int = 4
    mlp_ratio: float = 4.0
    drop_path_rate: float = 0.05
    film_interval: int = 6
    tmoe_blocks: int = 2
    num_experts: int = 4
    # "alternate_full" reverses the whole [template | search] sequence in odd blocks (the documents' layout);
    # "template_first" reverses each segment on its own so the template stays first and every block's search
    # tokens can read it (SEEDS.md, "a known weakness").
    scan_order: str = "template_first"
    # parallel | chunkwise | recurrent | kernels (same function, different cost; a run-time choice that
    # load_checkpoint's config_overrides may change). "kernels": NX-AI's optional mlstm_kernels package (Triton on
    # a CUDA GPU), model/mlstm.py.
    cell_form: str = "parallel"
    chunk_size: int = 64
    head_channels: int = 128
    stem: str = "patch"
    freeze_stem: bool = True        # pretrained stem only: its weights and batch-norm statistics stay fixed
    # Pretrained, frozen stem only: its last n MBConv blocks are trained all the same (convolution weights; their
    # batch-norm statistics and affine terms stay ImageNet's). Training then caches the features of the blocks
    # before them, so it stays cheap on a CPU, and the stem's features, which the correlation prior compares
    # directly, can learn to match a target instead of classifying ImageNet. 0: the whole stem as ImageNet left it.
    stem_trained_blocks: int = 0
    # Pretrained stem only: the head also reads the cosine similarity of every search cell to each of the
    # template's central correlation_cells x correlation_cells stem cells (0 = off). A matching signal that needs
    # no training (the training-free Siamese baseline is made of it), so a short training starts from it.
    correlation_cells: int = 0
    # Which tokens the FiLM temporal context modulates (and is made of): "all" (the seeds: templates and search) or
    # "search". With "search" the template side of the sequence never changes after init (scan order template_first:
    # the search never reaches it either), so a tracker computes the templates' per-block states once per template
    # and runs only the search tokens every frame (model.export, "template memory").
    film_tokens: str = "all"
    # ViL only: every n-th block (blocks n-1, 2n-1, ...) is a mixed-attention block (SEEDS.md section 4) instead of
    # an mLSTM block; 0 = all mLSTM (the seeds' layout). In the mLSTM a search token reads the template only through
    # the compressed matrix memory; a mixed-attention block lets every search cell compare itself with every
    # template cell directly, which is what small targets among look-alikes need (docs/MODEL.md).
    mixed_attention_every: int = 0
    # Mixed attention (MixFormer, or the ViL's mixed-attention blocks): kernel of the depthwise q/k/v convolutions
    # and the stride of the key/value maps.
    mix_kernel: int = 3
    mix_kv_stride: int = 2
    # Where those k x k template cells are read: "center" = the central k x k stem cells of the template grid;
    # "target_box" = k x k points spread over the target's own box in the template (bilinear), so a thin or
    # flat target's kernel is the target and not its background (callers pass template_boxes).
    correlation_kernel: str = "center"
    # What the head's box size is relative to. "none": a fraction of the search crop, from appearance alone; the
    # template crop is square, so the network never sees the given box's aspect ratio and draws each object's edges
    # where its training data put them (the tracker's size calibration measured per-sequence biases of 1.3-2x).
    # "template_box": the given box's width and height in the template (callers pass template_boxes) times a
    # learned per-cell factor, so every frame's size starts from the given box's shape.
    size_prior: str = "none"
    # How many cells past its own a cell's predicted centre may lie (0: only inside its cell, OSTrack's head). With
    # 1 every cell of the 3x3 neighbourhood of the true centre's cell is trained to give the target's box, so a peak
    # that lands one cell off (half of all frames on val and dev: the score map's peak is as coarse as its cells)
    # still reads a trained box. With 0.5 only the cells on the side the true centre is nearer to can reach it and
    # are trained (YOLOv5's offsets and assignment). The loss trains every cell that can place the centre.
    offset_reach: float = 0.0
    # Pretrained stem with the correlation prior only: n > 0 adds a learned depthwise cross-correlation (SiamRPN++'s
    # DepthwiseXCorr, the matching NanoTrack's head reads): the template's central correlation_cells x
    # correlation_cells stem cells and every search cell each pass a trained 1x1 adjustment to n channels, are
    # correlated channel by channel, and the n response maps reach the head beside the cosine prior. The cosine
    # prior gives the head correlation_cells^2 numbers per cell; this gives it what matched, channel by channel.
    depthwise_correlation: int = 0

    def __post_init__(self):
        # Kinds and signs first: the checks below do arithmetic with these (a patch_size of 0 or "abc" would end in
        # a ZeroDivisionError or TypeError instead of saying what is wrong).
        problems = [f"{f.name} must be a whole number >= {low}, got {getattr(self, f.name)!r}"
                    for f, low in _INTEGER_FIELDS_LOW.items()
                    if not (is_whole_number(getattr(self, f.name)) and getattr(self, f.name) >= low)]
        problems += [f"{f.name} must be a number >= 0, got {getattr(self, f.name)!r}"
                     for f in fields(self) if isinstance(f.default, float)
                     and not (isinstance(getattr(self, f.name), numbers.Real)
                              and not isinstance(getattr(self, f.name), bool) and getattr(self, f.name) >= 0)]
        if problems:
            raise ValueError("invalid model config: " + "; ".join(problems))
        for size_name in ("template_size", "search_size"):
            if getattr(self, size_name) % self.patch_size:
                problems.append(f"{size_name}={getattr(self, size_name)} is not a multiple of "
                                f"patch_size={self.patch_size}")
        if not 0.0 <= self.offset_reach <= 2.0:
            problems.append(f"offset_reach={self.offset_reach} must be in [0, 2] cells")
        if self.scan_order not in SCAN_ORDERS:
            problems.append(f"scan_order must be one of {SCAN_ORDERS}, got {self.scan_order!r}")
        if self.cell_form not in CELL_FORMS:
            problems.append(f"cell_form must be one of {CELL_FORMS}, got {self.cell_form!r}")
        if self.tmoe_blocks > self.depth or self.tmoe_blocks < 0:
            problems.append(f"tmoe_blocks={self.tmoe_blocks} must be in [0, depth={self.depth}]")
        if self.stem not in STEMS:
            problems.append(f"stem must be one of {STEMS}, got {self.stem!r}")
        elif self.stem == "efficientnet_lite0" and self.patch_size not in (8, 16):
            problems.append(f"the efficientnet_lite0 stem has stride 8 or 16, got patch_size={self.patch_size}")
        elif self.stem == "nanotrack_v2" and (self.patch_size != 16 or not self.freeze_stem
                                              or self.stem_trained_blocks):
            problems.append("the nanotrack_v2 stem has stride 16 (patch_size 16) and is frozen whole (freeze_stem: "
                            "true, stem_trained_blocks: 0)")
        if self.stem_trained_blocks and (self.stem == "patch" or not self.freeze_stem):
            problems.append("stem_trained_blocks needs a pretrained, frozen stem (stem: efficientnet_lite0, "
                            "freeze_stem: true); an unfrozen stem trains every block anyway")
        elif self.stem == "efficientnet_lite0" and self.patch_size in (8, 16) and \
                not 0 <= self.stem_trained_blocks <= STRIDE_CUTS[self.patch_size][0]:
            problems.append(f"stem_trained_blocks={self.stem_trained_blocks} must be in "
                            f"[0, {STRIDE_CUTS[self.patch_size][0]}] at stride {self.patch_size}")
        if self.correlation_cells and self.stem == "patch":
            problems.append("correlation_cells needs a pretrained stem (stem: efficientnet_lite0)")
        if self.depthwise_correlation < 0 or (self.depthwise_correlation and (
                not self.correlation_cells or self.correlation_kernel != "center")):
            problems.append(f"depthwise_correlation={self.depthwise_correlation} must be >= 0, and needs the "
                            "correlation prior (correlation_cells > 0, correlation_kernel center)")
        if not 0 <= self.correlation_cells <= self.template_size // self.patch_size:
            problems.append(f"correlation_cells={self.correlation_cells} must be in [0, template grid]")
        if self.correlation_kernel not in CORRELATION_KERNELS:
            problems.append(f"correlation_kernel must be one of {CORRELATION_KERNELS}, got {self.correlation_kernel!r}")
        if self.size_prior not in SIZE_PRIORS:
            problems.append(f"size_prior must be one of {SIZE_PRIORS}, got {self.size_prior!r}")
        if self.film_tokens not in FILM_TOKENS:
            problems.append(f"film_tokens must be one of {FILM_TOKENS}, got {self.film_tokens!r}")
        if self.num_templates not in (1, 2):
            problems.append(f"num_templates must be 1 or 2, got {self.num_templates}")
        if self.backbone not in BACKBONES:
            problems.append(f"backbone must be one of {BACKBONES}, got {self.backbone!r}")
        elif self.backbone == "vil" and (self.dim * self.proj_factor) % (self.num_heads * self.qkv_blocksize):
            problems.append("dim * proj_factor must be divisible by num_heads * qkv_blocksize")
        if self.mixed_attention_every < 0 or (self.backbone != "vil" and self.mixed_attention_every):
            problems.append(f"mixed_attention_every={self.mixed_attention_every} must be >= 0, and 0 unless the "
                            "backbone is vil")
        if self.backbone == "mixformer" or self.mixed_attention_every:
            if self.dim % self.num_heads:
                problems.append(f"dim={self.dim} must be divisible by num_heads={self.num_heads}")
            if self.mix_kernel < 1 or self.mix_kernel % 2 == 0:
                problems.append(f"mix_kernel must be odd and positive, got {self.mix_kernel}")
            if self.mix_kv_stride < 1:
                problems.append(f"mix_kv_stride must be >= 1, got {self.mix_kv_stride}")
        if problems:
            raise ValueError("invalid model config: " + "; ".join(problems))

    @property
    def relative_size(self) -> bool:
        """
        Tell whether the head's sizes start from the template box, which callers pass.

        That is the case with ``size_prior: template_box``.
        """
        return self.size_prior == "template_box"

    @property
    def template_grid(self) -> int:
        return self.template_size // self.patch_size

    @property
    def search_grid(self) -> int:
        return self.search_size // self.patch_size

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        return dataclass_from_dict(cls, data, "model config keys")

    def replace(self, **changes) -> "ModelConfig":
        return replace(self, **changes)


# Integer settings that may be 0 (a feature turned off); every other integer setting counts something and is
# >= 1.
_INTEGER_FIELDS_MAY_BE_ZERO = {"film_interval", "tmoe_blocks", "stem_trained_blocks", "correlation_cells",
                               "depthwise_correlation", "mixed_attention_every"}
_INTEGER_FIELDS_LOW = {f: 0 if f.name in _INTEGER_FIELDS_MAY_BE_ZERO else 1
                       for f in fields(ModelConfig) if isinstance(f.default, int) and not isinstance(f.default, bool)}


PRESETS: dict[str, ModelConfig] = {
    # SEEDS.md sizes at the documents' input resolution (template 128, search 256, patch 16).
    "vil_t": ModelConfig(name="vil_t", dim=192, depth=12),
    "vil_s": ModelConfig(name="vil_s", dim=384, depth=24),
    # Chosen by measurement on the 2-core CPU (README, "Presets"): the mLSTM's parallel form is quadratic in
    # tokens, so half the input resolution at patch 16 (16 + 64 tokens instead of 64 + 256) is what brings a
    # frame near CSRT's ~20 ms; patch 8 at the same resolution (320 tokens) measured about 3x slower.
    "vil_cpu": ModelConfig(name="vil_cpu", dim=128, depth=8, patch_size=16, template_size=64, search_size=128,
                           mlp_ratio=2.0, film_interval=4, tmoe_blocks=2, head_channels=64,
                           drop_path_rate=0.0),
    # The hybrid ViL (docs/MODEL.md): ImageNet EfficientNet-Lite0 stages to stride 16 (frozen) instead of the patch
    # convolution, 4 ViL blocks, and the stem's template-search correlation into the head; won the recipe
    # experiments (config/train/experiments.yaml, arm b2).
    "vil_hybrid": ModelConfig(name="vil_hybrid", dim=128, depth=4, stem="efficientnet_lite0", patch_size=16,
                              template_size=80, search_size=160, mlp_ratio=2.0, film_interval=2, tmoe_blocks=1,
                              head_channels=64, drop_path_rate=0.0, correlation_cells=3),
    # vil_hybrid with every second block a mixed-attention block (mLSTM, mixed attention, mLSTM, mixed attention;
    # TMoE in the last, FiLM after blocks 1 and 3): compared in config/train/vil_mix.yaml (docs/MODEL.md), where
    # it lost to the 4 mLSTM blocks on val and dev at the same budget.
    "vil_mix_hybrid": ModelConfig(name="vil_mix_hybrid", dim=128, depth=4, stem="efficientnet_lite0", patch_size=16,
                                  template_size=80, search_size=160, mlp_ratio=2.0, film_interval=2, tmoe_blocks=1,
                                  head_channels=64, drop_path_rate=0.0, correlation_cells=3,
                                  mixed_attention_every=2),
    # MixFormer's mixed-attention blocks in place of the ViL blocks, all else as vil_hybrid (same stem, crops,
    # correlation prior and head); 6 blocks with SwiGLU ratio 2.25 match vil_hybrid's parameter count (2.107M vs
    # 2.111M, 1.406M vs 1.411M trained). For comparison (docs/MODEL.md), not the product.
    "mixformer_hybrid": ModelConfig(name="mixformer_hybrid", backbone="mixformer", dim=128, depth=6,
                                    stem="efficientnet_lite0", patch_size=16, template_size=80, search_size=160,
                                    mlp_ratio=2.25, film_interval=0, tmoe_blocks=0, head_channels=64,
                                    drop_path_rate=0.0, correlation_cells=3),
}


def get_preset(name: str) -> ModelConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; available: {', '.join(sorted(PRESETS))}") from None
