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
"""``viltrack``: track a video or frame folder, show a checkpoint's facts, benchmark presets, train, evaluate."""
from __future__ import annotations

import argparse
import csv
import functools
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
from viltrack_ros.log import get_logger
from viltrack_ros.machine import cpu_description
from viltrack_ros.settings import assignments_dict, at_least, parse_box, positive_number, thread_count

log = get_logger("viltrack")

# The annotated video's frame rate when neither --fps nor the source gives one (a folder of images).
DEFAULT_VIDEO_FPS = 25.0


def value_range(text: str) -> tuple[float, float]:
    """Parse --value-range: ``LOW,HIGH`` with low < high."""
    from .data.value_scaling import ValueScaling
    try:
        return ValueScaling.parse(text).value_range
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def weights_description(info: dict) -> str:
    return "TRAINED" if info.get("trained") else "UNTRAINED (freshly initialised: it does not track)"


# --- track ----------------------------------------------------------------------------------------------
def cmd_track(args) -> int:
    import cv2
    from tqdm import tqdm
    from .model.checkpoint import CheckpointError
    from .tracking import TrackerConfig, TrackResult, TrackStatus, ViLTracker
    from .tracking.crop import clamp_box
    from .tracking.visualize import draw_tracks

    from .data.frame_source import FrameSource
    from .data.value_scaling import ValueScaling
    # Each option its own kind of source: OpenCV would read a text file given as --frames as a one-frame "video".
    if args.frames and not Path(args.frames).is_dir():
        print(f"error: --frames needs a folder of images, {args.frames} is not one (a video goes to --video)",
              file=sys.stderr)
        return 2
    if args.video and Path(args.video).is_dir():
        print(f"error: --video needs a video file, {args.video} is a folder (frames go to --frames)", file=sys.stderr)
        return 2
    try:
        source = FrameSource(args.video or args.frames, keep_depth=True)
        scaling = ValueScaling(args.value_range, args.auto_range)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # The model loads after the input is found: a mistyped path fails at once, not after seconds of loading.
    try:
        settings = assignments_dict(args.tracker_set, "--tracker-set")
        if args.online_update is not None:
            settings["online_template_update"] = args.online_update
        config = TrackerConfig.from_dict(settings)
        tracker = ViLTracker.from_checkpoint(args.weights, device=args.device, config=config,
                                             backend=args.backend, threads=args.threads or None)
    except (CheckpointError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"weights: {tracker.model_info['path']} [{weights_description(tracker.model_info)}], "
          f"preset {tracker.model.config.name}, device {tracker.device}, backend {tracker.backend}", file=sys.stderr)
    if settings:
        print("tracker settings: " + ", ".join(f"{name}={getattr(config, name)}" for name in settings), file=sys.stderr)
    # The annotated video plays at the source's own rate unless --fps says otherwise (a folder of images has none).
    fps = args.fps or source.fps or DEFAULT_VIDEO_FPS
    writer, rows, latencies = None, [], []
    # The outputs are opened before tracking: a path that cannot be written fails now, not after the whole run.
    csv_file = None
    try:
        if args.out:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        if args.csv:
            Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
            csv_file = open(args.csv, "w", newline="")
    except OSError as exc:
        print(f"error: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    failure = None
    try:
        hint_said = wide_frames = False
        for index, frame in enumerate(tqdm(source, total=source.frame_count, desc="tracking", unit="frame")):
            wide_frames = wide_frames or frame.dtype != np.uint8
            frame = scaling.to_uint8(frame)   # 16-bit frames to grey levels; 8-bit ones as they are
            image = cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB if frame.ndim == 2 else cv2.COLOR_BGR2RGB)
            hint = None if hint_said else scaling.narrow_range_hint(
                f"in {args.video or args.frames}", "Give --auto-range, or --value-range {low:.0f},{high:.0f}")
            if hint:
                hint_said = True
                tqdm.write(f"warning: {hint}", file=sys.stderr)
            if index == 0:
                try:
                    tracker.init(image, args.box)
                except ValueError as exc:
                    failure = f"initial box: {exc}"
                    break
                # The box as the tracker took it: clamped to the image, as every later box is.
                box, confidence, status = tuple(clamp_box(args.box, image.shape)), 1.0, TrackStatus.INITIALIZING
            else:
                start = time.perf_counter()
                box, confidence, status = tracker.update(image)
                latencies.append(time.perf_counter() - start)
            rows.append([index, *(f"{v:.2f}" for v in box), f"{confidence:.4f}", TrackStatus(status).name])
            if args.out:
                if writer is None:
                    writer = cv2.VideoWriter(args.out, cv2.VideoWriter_fourcc(*"mp4v"), fps,
                                             (image.shape[1], image.shape[0]))
                    if not writer.isOpened():
                        failure = (f"cannot write the video {args.out}: OpenCV cannot open it (a writable path "
                                   f"ending in .mp4 or .avi)")
                        break
                annotated = draw_tracks(image, [(0, TrackResult(tuple(box), confidence, status))])
                writer.write(cv2.cvtColor(annotated, cv2.COLOR_RGB2BGR))
    except (OSError, ValueError) as exc:   # an unreadable frame: what was tracked so far is still written
        failure = f"frame {len(rows)}: {exc}"
    finally:
        if writer is not None:
            writer.release()
        if csv_file is not None:
            with csv_file:
                out = csv.writer(csv_file)
                out.writerow(["frame", "x", "y", "w", "h", "confidence", "status"])
                out.writerows(rows)
    if not rows and not failure:
        failure = f"no frames in {args.video or args.frames}: OpenCV read none (an empty or unsupported video)"
    if failure:
        print(f"error: {failure}", file=sys.stderr)
        return 2
    if scaling.has_range and not wide_frames:
        print("note: --value-range and --auto-range read 16-bit frames; these were 8-bit and went in as they are",
              file=sys.stderr)
    if latencies:
        ms = np.array(latencies) * 1000
        print(f"{len(rows)} frames; update latency p50 {np.percentile(ms, 50):.1f} ms, "
              f"p99 {np.percentile(ms, 99):.1f} ms, {1000 / ms.mean():.1f} FPS", file=sys.stderr)
    return 0


# --- info -----------------------------------------------------------------------------------------------
def cmd_info(args) -> int:
    from .model.checkpoint import CheckpointError, load_checkpoint
    from .model.network import count_parameters
    try:
        model, info = load_checkpoint(args.weights)
    except CheckpointError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = model.config
    training = info.get("training", {})
    print(f"checkpoint      : {info['path']}")
    print(f"status          : {weights_description(info)}")
    print(f"preset          : {config.name} ({config.backbone} backbone, dim {config.dim}, depth {config.depth}, "
          f"patch {config.patch_size}, "
          f"template {config.template_size}px x{config.num_templates}, search {config.search_size}px, "
          f"scan {config.scan_order})")
    print(f"parameters      : {count_parameters(model):,} total; backbone {count_parameters(model.backbone):,}; "
          f"backbone without per-block MLPs {count_parameters(model.backbone, exclude_mlp=True):,}")
    if info.get("trained"):
        data = training.get("data", {})
        print(f"trained on      : {data}")
        print(f"training        : {training.get('steps')} steps, {training.get('wall_time_s')} s on "
              f"{training.get('hardware')}")
        earlier = training.get("initialised_from")
        if earlier:
            print(f"continued from  : {earlier.get('path')} ({earlier.get('steps')} steps, "
                  f"{earlier.get('wall_time_s')} s)")
        for key in ("best_dev_auc", "heldout_eval"):
            if key in training:
                print(f"{key:16s}: {training[key]}")
    else:
        print("trained on      : nothing (random initialisation)")
    return 0


# --- export ---------------------------------------------------------------------------------------------
def onnx_signature(graph: bytes) -> dict:
    """Return an ONNX graph's inputs and outputs, each name with its shape (a number, or the name of a free axis)."""
    import onnx
    model = onnx.load_from_string(graph)
    weights = {initializer.name for initializer in model.graph.initializer}

    def shapes(values) -> dict:
        return {v.name: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
                for v in values if v.name not in weights}
    return {"inputs": shapes(model.graph.input), "outputs": shapes(model.graph.output)}


def cmd_export(args) -> int:
    import json
    from .model.checkpoint import CheckpointError, load_checkpoint
    from .model.export import context_tokens, export_onnx
    try:
        model, info = load_checkpoint(args.weights)
    except (CheckpointError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        graphs = export_onnx(model, args.onnx)
    except OSError as exc:
        print(f"error: cannot write {exc.filename or args.onnx}: {exc.strerror}", file=sys.stderr)
        return 2
    cfg = model.config
    # Each graph's inputs and outputs are read from the graph itself, so the description cannot drift from it.
    notes = {
        "template_encoder.onnx": "a template crop to its stem features ('templates', one per crop)",
        "tracking_step.onnx": f"one frame for a batch of targets; templates are (batch, {cfg.num_templates}, ...) "
                              f"of template_encoder's output, context (batch, {context_tokens(model)}, {cfg.dim})",
        "template_memory.onnx": "once per template set: every block's template state (the templates never read a "
                                "frame)",
        "cached_step.onnx": "tracking_step.onnx's outputs from the template memory, computing only the search tokens",
    }
    description = {"weights": str(info.get("path")), "model_config": info["model_config"],
                   "input_normalisation": "RGB, (pixel - ImageNet mean*255) / (ImageNet std*255), CHW float32"}
    for name, graph in graphs.items():
        description[name] = {**onnx_signature(graph), "note": notes.get(name, "")}
    (Path(args.onnx) / "model.json").write_text(json.dumps(description, indent=1))
    print(f"wrote {Path(args.onnx).resolve()}/{{{', '.join(graphs)}}} and model.json "
          f"(preset {cfg.name}; run them with onnxruntime, or use the tracker's backend 'onnxruntime')")
    return 0


# --- bench ----------------------------------------------------------------------------------------------
def percentile_row(name: str, seconds: list[float], params: str, flops: str, device: str,
                   backend: str = "-") -> dict:
    ms = np.array(seconds) * 1000
    return {"tracker": name, "device": device, "backend": backend, "p50_ms": np.percentile(ms, 50),
            "p99_ms": np.percentile(ms, 99), "fps": 1000 / ms.mean(), "params": params, "gflops": flops,
            "rss_mb": _rss_mb()}


def _rss_mb() -> float:
    """Return the process's resident memory, from /proc (psutil is not everywhere a benchmark runs: a lent GPU)."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2 ** 20
    except (OSError, ValueError, IndexError):
        import resource   # elsewhere: the peak, the nearest figure the standard library has (KiB on Linux)
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 10


def _step_gflops(model, template_memory: bool = False) -> str:
    """
    Count the FLOPs of one tracking step with PyTorch on the CPU, in billions.

    The step is given the template features, or the template memory when ``template_memory`` is set.
    """
    import copy
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from .model.export import CachedTrackingStep, TemplateMemory, TrackingStep, example_step_inputs
    cpu_model = copy.deepcopy(model).cpu().eval()
    templates, searches, boxes, context, active = example_step_inputs(cpu_model)
    with torch.no_grad():
        memory = TemplateMemory(cpu_model)(templates, boxes) if template_memory else None
        with FlopCounterMode(display=False) as counter:
            if template_memory:
                CachedTrackingStep(cpu_model)(*memory, searches, context, active)
            else:
                TrackingStep(cpu_model)(templates, searches, boxes, context, active)
    return f"{counter.get_total_flops() / 1e9:.2f}"


def _timed_updates(update, frames, warmup: int, synchronize) -> list[float]:
    times = []
    for i, frame in enumerate(frames):
        synchronize()
        start = time.perf_counter()
        update(frame)
        synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def cmd_bench(args) -> int:
    import torch
    from .model import build_model, count_parameters, get_preset
    from .tracking import MultiTracker
    from .tracking.backends import onnxruntime_available
    if args.threads:
        import cv2
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)   # the peers too: ratios at equal threads (a lent GPU host has 16 cores)
    from .evaluation.benchmark_frames import benchmark_frames
    try:
        frames, box, source = benchmark_frames(args.frames + args.warmup + 1)
    except (OSError, ValueError) as exc:    # no sample video or sequence on this machine (a pip install elsewhere)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not args.cpu_only else [])
    if args.gpu_only:
        if not torch.cuda.is_available():
            print("--gpu-only: no CUDA GPU is available here", file=sys.stderr)
            return 2
        devices = ["cuda"]
    cpu_backends = [b for b in args.backends if b != "onnxruntime" or onnxruntime_available()]
    if len(cpu_backends) < len(args.backends):
        print("onnxruntime is not installed: its rows are skipped")
    from .model.checkpoint import CheckpointError, load_checkpoint
    from .tracking import TrackerConfig
    if args.targets and args.no_shipped:
        print("error: --targets times the shipped weights: drop --no-shipped", file=sys.stderr)
        return 2
    # Every preset, variant, setting and checkpoint is checked before the first timing: a typo fails in one line
    # now, not as a traceback after minutes of measuring.
    try:
        variants = [(preset, {}) for preset in args.presets]
        for spec in args.variant or []:      # "preset:key=value,key=value": a candidate configuration
            preset, _, assignments = spec.partition(":")
            variants.append((preset, assignments_dict(assignments.split(","), f"--variant {spec}")))
        for preset, changes in variants:
            try:
                get_preset(preset).replace(**changes)
            except TypeError as error:
                raise ValueError(f"--variant {preset}: {error}") from None
        tracker_config = TrackerConfig.from_dict(assignments_dict(args.tracker_set, "--tracker-set"))
        # Loaded once here; a later device loads its own copy (a tracker moves its model to its device).
        paths = ([] if args.no_shipped else [args.weights]) + args.compare
        checked = {path: load_checkpoint(path)[0] for path in paths}
        run = BenchRun(args.error_log, args.budget_s)   # opens --error-log: an unwritable path fails here, in one line
    except (CheckpointError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def checkpoint(path):
        return checked.pop(path) if path in checked else load_checkpoint(path)[0]

    def models():
        # The shipped weights first (what a user runs), then other checkpoints, then the presets and candidates
        # (untrained: speed only, so no ImageNet stem weights are loaded for them). Each is built when its rows
        # come, inside their guard: one that fails to build costs its rows only.
        if not args.no_shipped:
            yield "the shipped weights", lambda: checkpoint(args.weights), lambda m: f"shipped ({m.config.name})"
        for path in args.compare:
            folder = Path(path).parent.name or Path(path).name
            yield path, functools.partial(checkpoint, path), lambda m, folder=folder: f"{m.config.name} ({folder})"
        for preset, changes in variants:
            label = preset + (f" [{', '.join(f'{k}={v}' for k, v in changes.items())}]" if changes else "")
            yield (label, functools.partial(build_model, get_preset(preset).replace(**changes), pretrained_stem=False),
                   lambda m, label=label: label)

    # The peers first (CPU, seconds): their times are every ratio's reference, so each row of ours can be printed
    # the moment it is measured, and a crash or a time limit later loses nothing measured before it.
    peer_rows = [] if args.no_peers else _peer_rows(frames, box, args)
    csrt = next((r for r in peer_rows if r["tracker"] == "OpenCV CSRT"), None)
    nano = next((r for r in peer_rows if r["tracker"].startswith("NanoTrack")), None)
    print(f"CPU: {cpu_description()}, {os.cpu_count()} cores")
    print(f"frames: {args.frames} timed after {args.warmup} warm-up, {source}; threads {torch.get_num_threads()} "
          f"(torch, onnxruntime and OpenCV); batch 1; latency of a full update (crop + network + decode + the "
          f"target's classifier); RSS: the benchmark process after the row; GPU peak: the row's own")
    print("| tracker | device | backend | params | GFLOPs | p50 ms | p99 ms | FPS | p50 vs CSRT | p50 vs NanoTrack "
          "| RSS MiB | GPU peak MiB |")
    print("|---|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|", flush=True)

    def print_row(r: dict) -> None:
        vs_csrt = f"{r['p50_ms'] / csrt['p50_ms']:.2f}x" if csrt else "-"
        vs_nano = f"{r['p50_ms'] / nano['p50_ms']:.2f}x" if nano else "-"
        gpu_peak = "-" if r.get("gpu_peak_mb") is None else f"{r['gpu_peak_mb']:.0f}"
        print(f"| {r['tracker']} | {r['device']} | {r['backend']} | {r['params']} | {r['gflops']} | "
              f"{r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['fps']:.1f} | {vs_csrt} | {vs_nano} | {r['rss_mb']:.0f} "
              f"| {gpu_peak} |", flush=True)

    for r in peer_rows:
        print_row(r)
    shipped_trackers = {}
    for device in devices:
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        for name, build, label_of in models():
            if run.out_of_time(f"{name} on {device}"):
                break
            try:
                model = build()
            except Exception as error:
                if device == "cpu":
                    raise
                run.failed(f"{name} on {device}", error)
                continue
            label = label_of(model)
            # A model with a template memory is also timed without it (the whole sequence every frame): the saving
            # is measured in the same run.
            memory_modes = [True, False] if model.supports_template_memory else [False]
            flops = {}   # per mode, counted once for the model (a copy of it and a forward pass), not once per row
            for backend in cpu_backends if device == "cpu" else args.gpu_backends:
                if backend.startswith("torch-compile") and model.config.cell_form == "kernels":
                    print(f"{label} on {device} with {backend}: skipped, the Triton mLSTM kernels are timed eager "
                          f"(their rows answer whether they pay; compiling them costs minutes)", flush=True)
                    continue
                # Compiled: the default mode only (each mode is a compile of its own, minutes on a lent GPU).
                modes = memory_modes[:1] if backend.startswith("torch-compile") else memory_modes
                for template_memory in modes:
                    mode = "" if len(memory_modes) == 1 else (" template memory" if template_memory
                                                              else " whole sequence")
                    what = f"{label}{mode} on {device} with {backend}"
                    if run.out_of_time(what):
                        break
                    try:
                        if device == "cuda":
                            torch.cuda.reset_peak_memory_stats()
                        tracker = MultiTracker(model, config=tracker_config, device=device, backend=backend,
                                               template_memory=template_memory)
                        tracker.init(0, frames[0], box)
                        times = _timed_updates(tracker.update, frames[1:], args.warmup, sync)
                        if template_memory not in flops:
                            flops[template_memory] = _step_gflops(model, template_memory)
                        backbone = "MixFormer" if model.config.backbone == "mixformer" else "ViL"
                        row = percentile_row(f"{backbone} {label}{mode}", times,
                                             f"{count_parameters(model) / 1e6:.2f}M", flops[template_memory],
                                             device, backend)
                        if device == "cuda":
                            row["gpu_peak_mb"] = torch.cuda.max_memory_allocated() / 2 ** 20
                    except Exception as error:
                        if device == "cpu":
                            raise
                        # A GPU run is short and rare: one backend failing (a compiler, a driver) must not cost
                        # the other rows.
                        run.failed(what, error)
                        continue
                    print_row(row)
                    if label.startswith("shipped") and template_memory == memory_modes[0]:
                        shipped_trackers[(device, backend)] = tracker
    if peer_rows and not run.out_of_time("the peers' second timing"):
        # The rows are timed one after another, the peers first; on a shared machine its speed drifts in between.
        # Timing the peers again says how far, so a reader knows how much the ratios above can be trusted.
        again = {r["tracker"]: r["p50_ms"] for r in _peer_rows(frames, box, args, say_skipped=False)}
        drift = ", ".join(f"{r['tracker']} {r['p50_ms']:.1f} -> {again[r['tracker']]:.1f} ms "
                          f"({again[r['tracker']] / r['p50_ms'] - 1:+.0%})" for r in peer_rows if r["tracker"] in again)
        print(f"the peers timed again after our rows (the machine's drift over the run): {drift}", flush=True)
    if args.targets:
        bench_batched(shipped_trackers, frames, box, args, run)
    print(f"benchmark done in {run.elapsed_s():.0f} s", flush=True)
    return 0


class BenchRun:
    """
    What a benchmark run does with a row that fails or would not fit in its time.

    A failed row says so in one line (the whole traceback goes to ``error_log``, opened now so that an unwritable
    path fails before anything is measured); past ``budget_s`` seconds no new row starts, and the rows measured so
    far stand: a lent GPU's command limit then ends nothing unprinted.
    """

    def __init__(self, error_log: str | None, budget_s: float | None):
        self._log = open(error_log, "w") if error_log else None
        self._budget_s = budget_s
        self._started = time.monotonic()

    def elapsed_s(self) -> float:
        return time.monotonic() - self._started

    def out_of_time(self, what: str) -> bool:
        if self._budget_s is None or self.elapsed_s() <= self._budget_s:
            return False
        print(f"{what}: not started, past the time budget ({self._budget_s:g} s)", flush=True)
        return True

    def failed(self, what: str, error: BaseException) -> None:
        import traceback
        first_line = (str(error).strip().splitlines() or [""])[0][:300]
        print(f"{what}: skipped, {type(error).__name__}: {first_line}", flush=True)
        if self._log is not None:
            self._log.write(f"--- {what}\n{traceback.format_exc()}\n")
            self._log.flush()


def _peer_rows(frames, box, args, say_skipped: bool = True) -> list[dict]:
    """CSRT, KCF and NanoTrack on the same frames (CPU), as table rows; the skipped ones say why."""
    from .evaluation.trackers import peer_trackers
    peers, skipped = peer_trackers("CSRT,KCF,NanoTrack", args.nanotrack)
    for reason in skipped if say_skipped else ():
        print(reason)
    rows = []
    for peer in peers:
        # Peers get the same RGB frames as ours; their BGR conversion is part of their update time.
        peer.init(frames[0], np.asarray(box, dtype=np.float64))
        times = _timed_updates(peer.update, frames[1:], args.warmup, lambda: None)
        label = peer.name if peer.name.startswith("NanoTrack") else f"OpenCV {peer.name}"
        rows.append(percentile_row(label, times, "-", "-", "cpu"))
    return rows


BATCHED_ROUNDS = 5


def bench_batched(trackers: dict, frames, box, args, run: BenchRun) -> None:
    """
    Target-updates per second with N targets on one camera.

    The targets go through the network together, in batches of at most ``tracking.tracker.MAX_BATCH``. The counts
    take turns in rounds (each round starts the targets afresh on the first frame and times the same frames), so a
    shared machine's drift in speed falls on every count alike instead of on whichever ran last: the ratio to one
    target is what this table is for.
    """
    import torch
    rounds = max(1, min(BATCHED_ROUNDS, args.frames))
    per_round = -(-args.frames // rounds)
    print(f"\nbatched targets (shipped weights): one update of N targets per frame; {rounds} rounds of "
          f"{per_round} timed frames, the counts taking turns")
    print("| device | backend | targets | p50 ms per frame | target-updates/s | cost vs 1 target |")
    print("|---|---|---:|---:|---:|---:|")
    x, y, w, h = box
    for (device, backend), tracker in trackers.items():
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        times = {count: [] for count in args.targets}
        for round_index in range(rounds):
            if run.out_of_time(f"round {round_index + 1} of the batched targets on {device} with {backend}"):
                break
            warmup = args.warmup if round_index == 0 else 0   # one-time costs come once, in the first round
            for count in args.targets:
                tracker.clear()
                for target_id in range(count):   # targets spread a little so their crops differ
                    dx = (target_id % 8 - 4) * 0.05 * w
                    tracker.init(target_id, frames[0], (x + dx, y, w, h))
                times[count] += _timed_updates(tracker.update, frames[1:1 + warmup + per_round], warmup, sync)
        single = None
        for count in args.targets:
            if not times[count]:
                continue
            p50 = float(np.percentile(times[count], 50))
            single = single or p50
            print(f"| {device} | {backend} | {count} | {p50 * 1000:.1f} | {count / p50:.0f} | {p50 / single:.2f}x |")


# --- train / eval ---------------------------------------------------------------------------------------
def cmd_train(args) -> int:
    from .training.run import run_training
    return run_training(args)


def cmd_eval(args) -> int:
    from .evaluation.cli import run_eval
    return run_eval(args)


def build_parser() -> argparse.ArgumentParser:
    from .tracking.backends import BACKENDS, TORCH_BACKENDS
    parser = argparse.ArgumentParser(prog="viltrack", description=__doc__.strip())
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, summary: str, **kwargs) -> argparse.ArgumentParser:
        # The summary is the line in `viltrack --help` and the first line of `viltrack NAME --help`.
        return sub.add_parser(name, help=summary, description=summary[0].upper() + summary[1:] + ".", **kwargs)

    track = command("track", "track one target through a video or a folder of frames")
    source = track.add_mutually_exclusive_group(required=True)
    source.add_argument("--video", help="video file (anything OpenCV reads)")
    source.add_argument("--frames", help="folder of frames (00000001.jpg, ...)")
    track.add_argument("--box", required=True, type=parse_box,
                       help="initial box on the first frame: x,y,w,h (one that starts with a minus sign as "
                       "--box=-5,10,40,60)")
    track.add_argument("--weights", help="checkpoint file (default: the package's shipped weights)")
    track.add_argument("--device", default="auto", help="cpu, cuda or auto (default)")
    track.add_argument("--threads", type=thread_count, default=0,
                       help="CPU threads of the network, torch or onnxruntime (0: torch's default)")
    track.add_argument("--backend", default="auto", choices=BACKENDS,
                       help="who runs the network (auto: onnxruntime on CPU when installed)")
    track.add_argument("--out", help="annotated video to write (.mp4)")
    track.add_argument("--csv", help="CSV of per-frame boxes to write")
    track.add_argument("--fps", type=positive_number, default=None,
                       help=f"frame rate of the annotated video (default: the source video's, else "
                       f"{DEFAULT_VIDEO_FPS:g})")
    online = track.add_mutually_exclusive_group()
    online.add_argument("--online-update", dest="online_update", action="store_true", default=None,
                        help="force the online template update on")
    online.add_argument("--no-online-update", dest="online_update", action="store_false",
                        help="force the online template update off")
    track.add_argument("--tracker-set", action="append", default=[], metavar="KEY=VALUE",
                       help="a tracker setting, e.g. camera_motion=true for a shaking camera (repeatable; the "
                       "settings and their ranges: viltrack_ros.tracking.TrackerConfig, the node's tracker.* "
                       "parameters)")
    ranges = track.add_mutually_exclusive_group()
    ranges.add_argument("--value-range", dest="value_range", metavar="LOW,HIGH", type=value_range,
                        help="16-bit frames (a thermal or 12-bit camera's PNG or TIFF files): the values drawn black "
                        "and white (default: the whole 16-bit range; a negative LOW as --value-range=-100,100)")
    ranges.add_argument("--auto-range", dest="auto_range", action="store_true",
                        help="16-bit frames: take that range from the frames (each one's 1st-99th percentile, "
                        "followed smoothly)")
    track.set_defaults(func=cmd_track)

    info = command("info", "facts about a checkpoint: preset, parameters, trained or not")
    info.add_argument("--weights", help="checkpoint file (default: the package's shipped weights)")
    info.set_defaults(func=cmd_info)

    export = command("export", "export a checkpoint's network to ONNX: its graphs, and a model.json that describes "
                               "their inputs and outputs")
    export.add_argument("--onnx", required=True, metavar="DIR", help="folder to write the ONNX files to")
    export.add_argument("--weights", help="checkpoint file (default: the package's shipped weights)")
    export.set_defaults(func=cmd_export)

    bench = command("bench", "latency per preset and backend at batch 1 (CPU, and GPU when present), "
                             "peers in the same run; batched targets")
    bench.add_argument("--presets", nargs="*", default=["vil_cpu", "vil_t", "vil_s"],
                       help="untrained presets to time besides the shipped weights, for speed only (default: "
                            "vil_cpu vil_t vil_s; --presets with no names: the shipped weights only)")
    bench.add_argument("--variant", action="append", metavar="PRESET:KEY=VALUE,...",
                       help="also time a preset with changed settings, e.g. vil_cpu:patch_size=8 (repeatable)")
    bench.add_argument("--frames", type=at_least(1), default=30, help="timed frames per tracker (default 30)")
    bench.add_argument("--warmup", type=at_least(0), default=5, help="untimed frames before them (default 5)")
    bench.add_argument("--threads", type=thread_count, default=0,
                       help="CPU threads of torch and onnxruntime (0: torch's default)")
    bench.add_argument("--backends", nargs="+", default=["torch", "onnxruntime"],
                       choices=[b for b in BACKENDS if b != "auto"], help="CPU backends to time")
    bench.add_argument("--gpu-backends", nargs="+", default=["torch", "torch-bf16"], choices=TORCH_BACKENDS,
                       help="backends to time on a CUDA GPU (torch-compile*: CUDA graphs; compiled per batch size)")
    bench.add_argument("--targets", type=at_least(1), nargs="*", default=[],
                       help="also time N targets batched on the shipped weights, e.g. --targets 1 4 16 64")
    bench.add_argument("--cpu-only", action="store_true",
                       help="skip the GPU rows even where CUDA is available")
    bench.add_argument("--gpu-only", action="store_true",
                       help="time our rows on the CUDA GPU only (the peers still run on the CPU, for the ratios)")
    bench.add_argument("--no-peers", action="store_true",
                       help="skip the reference rows (OpenCV CSRT, KCF and NanoTrack v2)")
    bench.add_argument("--weights", default=None, help="checkpoint of the 'shipped' row (default: the package's)")
    bench.add_argument("--no-shipped", action="store_true", help="skip the row of the shipped weights")
    bench.add_argument("--compare", action="append", default=[], metavar="WEIGHTS",
                       help="also time this checkpoint, e.g. a MixFormer arm of config/train/backbones.yaml "
                            "(repeatable)")
    bench.add_argument("--tracker-set", action="append", default=[], metavar="KEY=VALUE",
                       help="tracker setting for our rows, e.g. online_template_update=false (repeatable)")
    bench.add_argument("--nanotrack", default=None, metavar="DIR",
                       help="folder with NanoTrack v2's ONNX files (default ../shared/models/nanotrack_v2)")
    bench.add_argument("--budget-s", type=positive_number, default=None, metavar="SECONDS",
                       help="start no new row after this many seconds (the rows measured so far stand); for a "
                            "machine with a time limit per command")
    bench.add_argument("--error-log", default=None, metavar="FILE",
                       help="write the whole traceback of each skipped GPU row here (the table says one line)")
    bench.set_defaults(func=cmd_bench)

    train = command("train", "train a model from a YAML config")
    train.add_argument("--config", required=True, help="config/train/<name>.yaml")
    train.add_argument("--out", help="run folder (default: runs/<config name>)")
    train.add_argument("--device", default="auto", help="cpu, cuda or auto (default: cuda when there is one)")
    train.add_argument("--resume", action="store_true", help="continue from the run folder's last state")
    train.add_argument("--init-weights", help="start from these weights (fine-tuning)")
    train.add_argument("--steps", type=at_least(1), help="override: scale every stage to this many steps in total")
    train.set_defaults(func=cmd_train)

    sub.add_parser(
        "experiment", add_help=False,
        help="the recipe experiments on the pre-cropped train/val split, and tracker-setting tuning on val and dev "
             "(viltrack experiment --help)")
    # main() hands "viltrack experiment ..." to training.experiment before this parser runs.

    evaluate = command("eval", "OTB-protocol evaluation with OpenCV peers side by side")
    try:
        from .evaluation.cli import add_eval_arguments
        add_eval_arguments(evaluate)
    except ImportError:      # evaluation extras missing: keep the rest of the CLI usable
        pass
    evaluate.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["experiment"]:      # its own parser (options that argparse's REMAINDER would refuse)
        from .training.experiment import main as experiment_main
        return experiment_main(argv[1:])
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
