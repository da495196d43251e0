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
The training loop; the same code runs on CPU and GPUs.

It has stages (pairs -> K-frame clips -> phase 2), AdamW + warm-up/cosine, AMP, clipping, checkpoint/resume, CSV
log + loss-curve PNG, and DDP under ``torchrun``.

Samples (from :mod:`viltrack_ros.training.data_pipeline`) are dicts with ``templates (T,3,h,h)``,
``searches (S*K,3,s,s)``, ``boxes (S*K,4)`` normalised cx,cy,w,h in each search crop and ``visible (S*K,)``.
"""
from __future__ import annotations

import csv
import json
import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, Subset
from tqdm import tqdm

from ..files import write_atomically
from ..machine import cpu_description
from ..model.checkpoint import save_checkpoint
from ..model.config import get_preset
from ..model.network import ViLTrackNet, count_parameters
from .config import StageConfig, TrainConfig
from .losses import tracking_loss
from viltrack_ros.log import get_logger

log = get_logger("viltrack.train")
STATE_FILE = "train_state.pt"
MODEL_FILE = "model.pt"
BEST_FILE = "best.pt"
LOG_FILE = "log.csv"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


def lr_factor(step: int, total: int, warmup_fraction: float, min_ratio: float) -> float:
    """Linear warm-up, then cosine decay to ``min_ratio`` of the peak."""
    warmup = max(1, int(total * warmup_fraction))
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


class DistributedContext:
    """Rank/world/device under ``torchrun`` (``WORLD_SIZE`` set), or a single process otherwise."""

    def __init__(self, device: str = "auto"):
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device == "cuda":
            torch.cuda.set_device(local_rank)
            self.device = torch.device("cuda", local_rank)
        else:
            self.device = torch.device(device)
        if self.world_size > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()


def forward_sample_batch(model, batch: dict, stage: StageConfig, loss_weights: dict, film) -> tuple[torch.Tensor, dict]:
    """Run ``temporal_steps`` forward passes of ``search_frames`` frames each, carrying the FiLM context."""
    K, S = stage.search_frames, stage.temporal_steps
    film.reset()
    total, stats_sum = 0.0, {}
    for step in range(S):
        frames = slice(step * K, (step + 1) * K)
        searches = batch["searches"][:, frames]
        outputs = model(batch["templates"], searches if K > 1 else searches[:, 0])
        if K > 1:
            outputs = {k: v.flatten(0, 1) for k, v in outputs.items()}
        # ``model`` may be wrapped in DDP (``.module``).
        loss, stats = tracking_loss(outputs, batch["boxes"][:, frames].flatten(0, 1),
                                    batch["visible"][:, frames].flatten(0, 1), loss_weights,
                                    offset_reach=getattr(model, "module", model).config.offset_reach)
        total = total + loss / S
        for key, value in stats.items():
            stats_sum[key] = stats_sum.get(key, 0.0) + value / S
    return total, stats_sum


def plot_losses(csv_path: Path, png_path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    steps = [int(r["step"]) for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for key in ("total", "focal", "giou", "l1"):
        values = [float(r[key]) if r.get(key) not in (None, "") else np.nan for r in rows]
        axes[0].plot(steps, values, label=key)
    axes[0].set_xlabel("step"), axes[0].set_ylabel("loss"), axes[0].set_yscale("log"), axes[0].legend()
    axes[0].set_title("training loss")
    ious = [float(r["iou"]) if r.get("iou") not in (None, "") else np.nan for r in rows]
    axes[1].plot(steps, ious, label="train IoU at true centre")
    val = [(int(r["step"]), float(r["val_auc"])) for r in rows if r.get("val_auc") not in (None, "")]
    if val:
        axes[1].plot(*zip(*val), "o-", label="dev-sequence AUC")
    axes[1].set_xlabel("step"), axes[1].set_ylim(0, 1), axes[1].legend(), axes[1].set_title("quality")
    fig.tight_layout()
    fig.savefig(png_path, dpi=100)
    plt.close(fig)


class Trainer:
    def __init__(self, config: TrainConfig, out_dir: str | Path, device: str = "auto", resume: bool = False,
                 init_weights: str | None = None):
        self.config = config
        self.out_dir = Path(out_dir)
        self.ctx = DistributedContext(device)
        if config.threads:
            torch.set_num_threads(config.threads)
        # OpenCV's thread pool does not survive fork(): a data-loader worker forked from a parent whose pool has
        # started deadlocks in its first cv2 call. One OpenCV thread in the parent keeps forking safe (the
        # workers are the parallelism).
        import cv2
        cv2.setNumThreads(1)
        seed_everything(config.seed + self.ctx.rank)
        model_config = get_preset(config.preset).replace(**config.model_overrides)
        self.model = ViLTrackNet(model_config).to(self.ctx.device)
        self.initialised_from = None
        if init_weights:
            from ..model.checkpoint import load_checkpoint
            loaded, info = load_checkpoint(init_weights, device=self.ctx.device)
            self.model.load_state_dict(loaded.state_dict())
            earlier = info.get("training", {})
            # The model card must count the earlier training too, not just this run's steps.
            self.initialised_from = {"path": str(init_weights), "steps": earlier.get("steps"),
                                     "wall_time_s": earlier.get("wall_time_s"),
                                     "stages": earlier.get("config", {}).get("stages")}
        self.film = self.model.backbone.film
        self.net = self.model
        if self.ctx.world_size > 1:
            self.net = torch.nn.parallel.DistributedDataParallel(
                self.net, device_ids=[self.ctx.device.index] if self.ctx.device.type == "cuda" else None,
                find_unused_parameters=True)
        if config.compile:
            # Static shapes: each stage's sample layout compiles once. Automatic dynamic shapes crashed inductor
            # (torch 2.13, "cannot determine truth value of Relational") when the clip stage changed the shapes.
            self.net = torch.compile(self.net, dynamic=False)
        decay, no_decay = [], []
        for name, p in self.model.named_parameters():
            (no_decay if p.ndim <= 1 or name.endswith(("_pos", "_type")) else decay).append(p)
        self.optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": config.weight_decay},
                                            {"params": no_decay, "weight_decay": 0.0}], lr=config.lr)
        use_amp = config.amp == "on" or (config.amp == "auto" and self.ctx.device.type == "cuda")
        self.autocast_dtype = torch.bfloat16 if use_amp else None
        self.step = 0
        self.wall_time = 0.0
        self.best_val = -1.0
        self.history_start = time.time()
        if resume and (self.out_dir / STATE_FILE).exists():
            self._load_state()

    # --- state --------------------------------------------------------------------------------------------
    def _save_state(self) -> None:
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "step": self.step,
                 "wall_time": self.wall_time, "best_val": self.best_val, "config": self.config.to_dict(),
                 "torch_rng": torch.get_rng_state(), "numpy_rng": np.random.get_state(),
                 "python_rng": random.getstate()}
        write_atomically(self.out_dir / STATE_FILE, lambda partial: torch.save(state, partial))

    def _load_state(self) -> None:
        state = torch.load(self.out_dir / STATE_FILE, map_location=self.ctx.device, weights_only=False)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.wall_time, self.best_val = state["step"], state["wall_time"], state["best_val"]
        torch.set_rng_state(state["torch_rng"])
        np.random.set_state(state["numpy_rng"])
        random.setstate(state["python_rng"])
        log.info("resumed from step %d", self.step)

    def training_record(self) -> dict:
        return {
            "config": self.config.to_dict(), "steps": self.step, "wall_time_s": round(self.wall_time, 1),
            "hardware": self.hardware(), "world_size": self.ctx.world_size,
            "data": {"sources": self.config.data_sources, "sequences_root": str(self.config.sequences_folder()),
                     "sequence_split": self.config.sequence_split, "extra_datasets": self.config.extra_datasets},
            "parameters": count_parameters(self.model), "best_dev_auc": self.best_val,
            "initialised_from": self.initialised_from,
        }

    def hardware(self) -> str:
        if self.ctx.device.type == "cuda":
            return f"{self.ctx.world_size}x {torch.cuda.get_device_name(self.ctx.device)}"
        return f"CPU {cpu_description()}, {torch.get_num_threads()} threads"

    def export(self, name: str = MODEL_FILE) -> Path:
        return save_checkpoint(self.out_dir / name, self.model, trained=True, training=self.training_record())

    # --- loop ---------------------------------------------------------------------------------------------
    def _stage_at(self, step: int) -> tuple[StageConfig, int]:
        start = 0
        for stage in self.config.stages:
            if step < start + stage.steps:
                return stage, start
            start += stage.steps
        return self.config.stages[-1], start

    def _loader(self, stage: StageConfig, stage_start: int) -> DataLoader:
        from ..data.sampler import seed_worker
        from .data_pipeline import make_dataset
        # One stream per stage and rank (SeedSequence mixes the three: a sum let seed 1 at step 1000 draw what seed 2
        # drew at step 0), read from the sample the run has reached: a run resumed mid-stage draws the samples the
        # uninterrupted run would have drawn, not a new stream.
        seed = int(np.random.SeedSequence([self.config.seed, stage_start, self.ctx.rank]).generate_state(1)[0])
        dataset = make_dataset(self.config, stage, self.model.config, seed=seed)
        done = (self.step - stage_start) * self.config.batch_size
        dataset = Subset(dataset, range(done, len(dataset)))
        return DataLoader(dataset, batch_size=self.config.batch_size, num_workers=self.config.num_workers,
                          worker_init_fn=seed_worker, persistent_workers=False,
                          pin_memory=self.ctx.device.type == "cuda")

    def train(self, validate=None) -> Path:
        """Train to the end of the last stage; ``validate(model) -> dev AUC`` is called every ``val_every``."""
        cfg = self.config
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if self.ctx.is_main:
            (self.out_dir / "train_config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
        total = cfg.total_steps
        progress = tqdm(total=total, initial=self.step, desc=cfg.name, disable=not self.ctx.is_main,
                        dynamic_ncols=True)
        csv_path = self.out_dir / LOG_FILE
        columns = ["step", "stage", "lr", "total", "focal", "giou", "l1", "iou", "val_auc", "samples_per_s",
                   "wall_time_s"]
        if self.ctx.is_main and not csv_path.exists():
            with open(csv_path, "w", newline="") as f:
                csv.writer(f).writerow(columns)
        elif self.ctx.is_main:
            drop_log_rows_after(csv_path, self.step)
        while self.step < total:
            stage, stage_start = self._stage_at(self.step)
            if stage.freeze_shared_experts:
                self.model.freeze_shared_experts()
            self.model.train()
            window, window_start = {}, time.time()
            for batch in self._loader(stage, stage_start):
                step_start = time.time()
                batch = {k: v.to(self.ctx.device, non_blocking=True) for k, v in batch.items()}
                for group in self.optimizer.param_groups:
                    group["lr"] = cfg.lr * lr_factor(self.step, total, cfg.warmup_fraction, cfg.min_lr_ratio)
                with torch.autocast(self.ctx.device.type, dtype=self.autocast_dtype,
                                    enabled=self.autocast_dtype is not None):
                    loss, stats = forward_sample_batch(self.net, batch, stage, cfg.loss_weights, self.film)
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if cfg.grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
                self.optimizer.step()
                self.step += 1
                self.wall_time += time.time() - step_start
                for key, value in stats.items():
                    window.setdefault(key, []).append(value)
                progress.update(1)
                progress.set_postfix(loss=f"{stats['total']:.3f}", iou=f"{stats.get('iou', 0):.2f}", stage=stage.name)
                val_auc = None
                if validate and cfg.val_every and self.step % cfg.val_every == 0 and self.ctx.is_main:
                    val_start = time.time()
                    val_auc = validate(self.model)
                    self.model.train()
                    self.wall_time += time.time() - val_start
                    if val_auc > self.best_val:
                        self.best_val = val_auc
                        self.export(BEST_FILE)
                        # The record of the best goes with it: resumed from an older state, a worse checkpoint
                        # would otherwise count as the best and overwrite best.pt.
                        self._save_state()
                    log.info("step %d: dev AUC %.3f (best %.3f)", self.step, val_auc, self.best_val)
                if self.ctx.is_main and (self.step % cfg.log_every == 0 or val_auc is not None):
                    elapsed = max(time.time() - window_start, 1e-6)
                    samples = len(window.get("total", [])) * cfg.batch_size * self.ctx.world_size
                    row = {"step": self.step, "stage": stage.name, "lr": self.optimizer.param_groups[0]["lr"],
                           **{k: float(np.mean(v)) for k, v in window.items()},
                           "val_auc": "" if val_auc is None else val_auc,
                           "samples_per_s": samples / elapsed,
                           "wall_time_s": round(self.wall_time, 1)}
                    with open(csv_path, "a", newline="") as f:
                        csv.DictWriter(f, columns, extrasaction="ignore").writerow(row)
                    window, window_start = {}, time.time()
                if self.ctx.is_main and self.step % cfg.checkpoint_every == 0:
                    self._save_state()
                    self.export()
                    plot_losses(csv_path, self.out_dir / "loss_curve.png")
                if self.step >= stage_start + stage.steps or self.step >= total:
                    break
        progress.close()
        if self.ctx.is_main:
            self._save_state()
            path = self.export()
            plot_losses(csv_path, self.out_dir / "loss_curve.png")
            return path
        return self.out_dir / MODEL_FILE


def drop_log_rows_after(log_path: Path, step: int) -> None:
    """
    Keep the rows of a training log up to ``step``, the step a run resumes from.

    Rows written after the last saved state are trained again on resume: kept, the log would hold two rows (with
    other values) for those steps, and a curve drawn from it would zig-zag.
    """
    with log_path.open(newline="") as file:
        rows = list(csv.reader(file))
    kept = rows[:1] + [row for row in rows[1:] if row and int(row[0]) <= step]
    if len(kept) < len(rows):
        with log_path.open("w", newline="") as file:
            csv.writer(file).writerows(kept)
