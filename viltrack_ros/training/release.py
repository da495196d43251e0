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
Ship a trained checkpoint as the package default.

Runs the held-out evaluation beside NanoTrack v2, CSRT, KCF and the training-free Siamese baseline in one run (the
OTB protocol: one run per sequence from its first frame; then, as a steadier measure, every sequence also from
later start frames), then writes the weights + a regenerated model card.

    python -m viltrack_ros.training.release --weights runs/vil_cpu/best.pt [--sequences DIR] [--threads 2]

The held-out sequences (config/data_splits.yaml) are scored here and nowhere in training or checkpoint choice.
Writes ``viltrack_ros/weights/viltrack_default.pt`` (the evaluation folded into its training record) and
``viltrack_ros/weights/MODEL_CARD.md``, and the full report (tables, plots) under ``--out``.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy
import torch

from ..data.sequences import load_sequence_folders, mean_over_starts, restart_source, restarted_sequences
from ..data.splits import DEFAULT_SEQUENCES_ROOT, REPO_ROOT, load_data_splits
from ..evaluation.plots import plot_grouped_bars
from ..evaluation.runner import evaluate, write_report
from ..evaluation.trackers import SiameseStemBaseline, ViLTrackerAdapter, peer_trackers
from ..machine import cpu_description
from ..model.checkpoint import default_weights_path, load_checkpoint, save_checkpoint
from ..model.network import count_parameters
from ..settings import at_least, thread_count
from ..tracking import TrackerConfig, ViLTracker

OURS = "ViLTrack"
STEM_BASELINE = "Siamese EfficientNet-Lite0 (training-free)"
NANOTRACK = "NanoTrack v2"
ARMS_TABLE = REPO_ROOT / "docs" / "experiments" / "arms.md"


def _training_lines(training: dict) -> list[str]:
    """List what the checkpoint's training record says, for either trainer (``viltrack train`` or the experiments)."""
    if "recipe" in training:      # viltrack_ros.training.experiment
        data = training.get("data", {})
        lines = [f"- Recipe `{training['recipe']}`: {training.get('description', '')}.",
                 f"- Data: {data.get('frames')} frames of {len(data.get('sequences', []))} sequences of the "
                 f"pre-cropped `train` split ({data.get('train_root')}); pairs {json.dumps(data.get('pairs', {}))}.",
                 f"- This run: {training.get('steps')} steps x batch {training.get('batch_size')} = "
                 f"{training.get('samples')} samples; {training.get('hardware')}; wall time "
                 f"{training.get('wall_time_s')} s ({training.get('wall_time_s', 0) / 3600:.2f} h); torch "
                 f"{training.get('torch')}; trainable parameters {training.get('trainable_parameters'):,}."]
        earlier = training.get("earlier_training") or []
        for record in earlier:
            lines.append(f"- Before that: {record.get('steps')} steps x batch {record.get('batch_size')} "
                         f"({record.get('samples')} samples), {record.get('wall_time_s')} s on "
                         f"{record.get('hardware')} (recipe `{record.get('recipe')}`).")
        total_s = training.get("wall_time_s", 0) + sum(r.get("wall_time_s", 0) for r in earlier)
        total_samples = training.get("samples", 0) + sum(r.get("samples", 0) for r in earlier)
        lines.append(f"- In all: {total_samples} samples, {total_s / 3600:.2f} h of training.")
        return lines
    return [f"- Data: {json.dumps(training.get('data', {}))}.",
            f"- Steps: {training.get('steps')}; hardware: {training.get('hardware')}; wall time "
            f"{training.get('wall_time_s')} s."]


def _shown_path(path: Path) -> Path:
    """``path`` relative to the checkout when it lies inside it: the committed card names no machine's folders."""
    try:
        return Path(path).resolve().relative_to(REPO_ROOT.resolve())
    except ValueError:
        return Path(path)


# Tracker settings that act only on a model with an online template (num_templates 2).
ONLINE_TEMPLATE_SETTINGS = ("online_template_update", "update_threshold", "update_interval")


def settings_text(num_templates: int) -> str:
    """
    Return the default tracker settings as the card lists them.

    For a one-template model those of the online template are set apart: they do nothing there, and listed with
    the others they would read as if they mattered.
    """
    defaults = TrackerConfig().to_dict()
    if num_templates > 1:
        return ", ".join(f"{k} {v}" for k, v in defaults.items())
    used = ", ".join(f"{k} {v}" for k, v in defaults.items() if k not in ONLINE_TEMPLATE_SETTINGS)
    unused = ", ".join(ONLINE_TEMPLATE_SETTINGS)
    return f"{used}; {unused} do nothing with this model's one template"


def onnxruntime_version() -> str:
    """Return onnxruntime's version, or say it is absent (ours then ran on PyTorch)."""
    try:
        import onnxruntime
    except ImportError:
        return "absent"
    return onnxruntime.__version__


def per_video_auc(report) -> dict[str, dict[str, float]]:
    """Return each tracker's success AUC per video: the mean over the video's runs (its start frames)."""
    return {tracker: mean_over_starts({run: report.scores[(tracker, run)].auc for run in report.sequences})
            for tracker in report.trackers}


def restarts_section(report, starts: int) -> list[str]:
    """
    Describe the held-out evaluation from several start frames: each tracker's mean over all runs, and per video.

    One run per sequence turns on near-ties (a track kept or lost at one frame moves a sequence by 0.3), so the mean
    over every start frame says more precisely how far apart two trackers are than the OTB protocol's single run.
    """
    per_video = per_video_auc(report)
    lines = [f"## Held-out evaluation from {starts} start frames per sequence (a steadier measure)", "",
             f"The same trackers and sequences, each sequence also tracked from later start frames (its first frame "
             f"and up to {starts - 1} more spread over its first two thirds, each the next frame with the target in "
             f"view: `restarted_sequences`), {len(report.sequences)} runs in all, every run scored as above. One "
             "run per sequence turns on near-ties; the mean over these runs measures the distance between two "
             "trackers more precisely. Mean over all runs:", "",
             "| tracker | success AUC | precision @20px | runs |", "|---|---:|---:|---:|"]
    for name in report.trackers:
        mean = report.means[name]
        lines.append(f"| {name} | {mean.auc:.3f} | {mean.precision:.3f} | {len(report.sequences)} |")
    lines += ["", "Per sequence: success AUC, mean over its start frames (its number of runs in brackets)", "",
              "| sequence | " + " | ".join(report.trackers) + " |", "|---|" + "---:|" * len(report.trackers)]
    for video in per_video[report.trackers[0]]:
        runs = sum(restart_source(name) == video for name in report.sequences)
        cells = [f"{per_video[t][video]:.3f}" for t in report.trackers]
        lines.append(f"| {video} ({runs}) | " + " | ".join(cells) + " |")
    lines.append("")
    return lines


def model_card(info: dict, model, report, eval_dir: Path, ablation: dict | None, arms_table: str | None,
               backend: str = "torch", restarts_report=None, starts: int = 1, other_threads=None) -> str:
    training = info["training"]
    settings = settings_text(model.config.num_templates)
    config = model.config
    means = report.means
    ours = means[OURS]
    stem = ("ImageNet EfficientNet-Lite0 stem (frozen) to stride "
            f"{config.patch_size}" if config.stem != "patch" else f"patch-{config.patch_size} stem")
    lines = [
        "# Model card: viltrack_default.pt", "",
        f"Model `{config.name}`: {stem}, ViL dim {config.dim}, depth {config.depth} (FiLM every "
        f"{config.film_interval} blocks, TMoE in the last {config.tmoe_blocks}), template {config.template_size} px "
        f"x{config.num_templates}, search {config.search_size} px ({config.search_grid}x{config.search_grid} cells), "
        f"correlation prior {config.correlation_cells}x{config.correlation_cells} cells, scan order "
        f"`{config.scan_order}`; {count_parameters(model):,} parameters. Trained: **{info['trained']}**.", "",
        "## Training", "", *_training_lines(training),
        "- Checkpoint and settings choice: " + training.get(
            "checkpoint_choice", "by tracking the pre-cropped `val` split and the development sequences") + ".", "",
    ]
    if arms_table:
        lines += ["## Recipe experiments (same pairs, seed and budget per arm; scored on `val`, never held-out)", "",
                  arms_table.strip(), ""]
    lines += [
        "## Held-out evaluation (OTB protocol, same frames and same run for every tracker)", "",
        f"Held-out sequences, never trained on nor used to choose checkpoints or settings: "
        f"{', '.join(report.sequences)}. Frame 1 is the initialisation and not scored; absent-target frames are "
        "not scored; success counts IoU > threshold over 21 thresholds (a perfect tracker scores 20/21 = 0.952). "
        "FPS counts init and update on the sequences' own (small) frames.",
        "", report.markdown_table(), "",
        f"Machine: {cpu_description()}, threads {torch.get_num_threads()}, torch {torch.__version__}, OpenCV "
        f"{cv2.__version__}, onnxruntime {onnxruntime_version()}, numpy {numpy.__version__}, ours on the {backend} "
        f"backend with the default "
        f"tracker settings ({settings}), {datetime.now(timezone.utc).date()}. "
        f"Plots and per-frame boxes: `{_shown_path(eval_dir)}`.", "",
    ]
    if restarts_report is not None:
        lines += restarts_section(restarts_report, starts)
    if ablation:
        lines += ["## Online template update (the MixFormer-style gate), measured on the held-out sequences", "",
                  "| online template update | success AUC | precision @20px |", "|---|---:|---:|"]
        for name, score in ablation.items():
            lines.append(f"| {name} | {score.auc:.3f} | {score.precision:.3f} |")
        lines.append("")
    lines += ["## Where it stands", ""]
    for peer in ("CSRT", "CSRT+hold", STEM_BASELINE, NANOTRACK):
        if peer in means:
            other = means[peer]
            verdict = "above" if ours.auc > other.auc else "below"
            line = (f"- Against {peer}: success AUC {ours.auc:.3f} vs {other.auc:.3f} ({verdict}, "
                    f"{ours.auc - other.auc:+.3f}); precision {ours.precision:.3f} vs {other.precision:.3f}")
            if restarts_report is not None and peer in restarts_report.means:
                ours_r, other_r = restarts_report.means[OURS], restarts_report.means[peer]
                steady = "above" if ours_r.auc > other_r.auc else "below"
                line += (f"; from {starts} start frames {ours_r.auc:.3f} vs {other_r.auc:.3f} ({steady}, "
                         f"{ours_r.auc - other_r.auc:+.3f})")
            lines.append(line + ".")
    if other_threads is not None:
        count, score = other_threads
        lines.append(f"- The same weights and settings at {count} thread{'s' if count > 1 else ''} instead of "
                     f"{torch.get_num_threads()}: success AUC {score.auc:.3f} (precision {score.precision:.3f}) in "
                     f"the single run. The thread count changes the last bits of the network's arithmetic, and a "
                     f"near-tie then goes the other way on a sequence; the verdicts of the single run above can "
                     f"move with it, those from several start frames are the steadier ones.")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().split("\n")[0])
    parser.add_argument("--weights", required=True, help="the trained checkpoint to ship")
    parser.add_argument("--sequences", type=Path, default=DEFAULT_SEQUENCES_ROOT)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "outputs" / "release")
    parser.add_argument("--threads", type=thread_count, default=2,
                        help="CPU threads of every tracker (default 2, the documented release run; ours is also "
                             "scored at one other count, whose single-run AUC the card gives)")
    parser.add_argument("--dest", type=Path, default=default_weights_path(),
                        help="where the shipped checkpoint goes (its MODEL_CARD.md goes beside it)")
    parser.add_argument("--no-ablation", action="store_true", help="skip the online-update on/off comparison")
    parser.add_argument("--max-frames", type=int, default=None,
                        help="score only the first frames of each sequence (a smoke test; never for a release)")
    parser.add_argument("--starts", type=at_least(1), default=5,
                        help="also score every held-out sequence from this many start frames, the steadier measure "
                             "(1: the OTB run only)")
    parser.add_argument("--nanotrack", default=None, metavar="DIR",
                        help="folder with NanoTrack v2's ONNX files (default ../shared/models/nanotrack_v2)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    import cv2
    cv2.setNumThreads(args.threads)
    model, info = load_checkpoint(args.weights)
    if not info["trained"]:
        print("error: refusing to ship an untrained checkpoint", file=sys.stderr)
        return 2
    splits = load_data_splits()
    sequences = load_sequence_folders(args.sequences, splits.heldout)
    # OpenCV's trackers report failure and then give no box (IoU 0 there); ours always answers with a box, LOST or
    # not. The same peers keeping their last box (<kind>+hold) are the like-for-like comparison: both are scored.
    peers, skipped = peer_trackers("NanoTrack,CSRT,KCF", args.nanotrack, hold_last_box=True)
    for reason in skipped:
        print(reason)
    ours = ViLTracker(model)
    trackers = [ViLTrackerAdapter(ours, name=OURS), *peers, SiameseStemBaseline(STEM_BASELINE)]
    report = evaluate(trackers, sequences, max_frames=args.max_frames,
                      metadata={"weights": args.weights, "threads": args.threads, "peers_skipped": skipped})
    write_report(report, args.out / "heldout")
    restarts_report = None
    if args.starts > 1:
        restarts_report = evaluate(trackers, restarted_sequences(sequences, args.starts), max_frames=args.max_frames,
                                   metadata={"weights": args.weights, "threads": args.threads, "starts": args.starts})
        write_report(restarts_report, args.out / "heldout_restarts")
        plot_grouped_bars(per_video_auc(restarts_report), args.out / "heldout_restarts" / "per_video_auc.png",
                          f"Held-out success AUC per sequence, mean over {args.starts} start frames")
    # The single run turns on near-ties, and the thread count changes the last bits of the arithmetic: ours again at
    # another count says how far this run's verdicts can move (the starts above are the steadier measure).
    other_threads = 1 if args.threads > 1 else 2
    other_name = f"{OURS} at {other_threads} thread{'s' if other_threads > 1 else ''}"
    other_report = evaluate([ViLTrackerAdapter(ViLTracker(model, threads=other_threads), name=other_name)],
                            sequences, max_frames=args.max_frames)
    torch.set_num_threads(args.threads)
    ablation = None
    if not args.no_ablation and model.config.num_templates > 1:
        off = ViLTrackerAdapter(ViLTracker(model, TrackerConfig(online_template_update=False)), name="off")
        off_report = evaluate([off], sequences, progress=True, max_frames=args.max_frames)
        ablation = {"on (shipped default)": report.means[OURS], "off": off_report.means["off"]}
    training = dict(info["training"])
    training["heldout_eval"] = {name: {"auc": round(s.auc, 4), "precision": round(s.precision, 4),
                                       "fps": round(s.fps, 1)} for name, s in report.means.items()}
    training["heldout_sequences"] = list(report.sequences)
    training["heldout_eval_other_threads"] = {"threads": other_threads,
                                              "auc": round(other_report.means[other_name].auc, 4),
                                              "precision": round(other_report.means[other_name].precision, 4)}
    if restarts_report is not None:
        training["heldout_eval_restarts"] = {
            "starts": args.starts, "runs": len(restarts_report.sequences),
            **{name: {"auc": round(s.auc, 4), "precision": round(s.precision, 4)}
               for name, s in restarts_report.means.items()}}
    target = args.dest
    save_checkpoint(target, model, trained=True, training=training)
    info["training"] = training
    # Plots a person looks at, beside the card (small PNGs): held-out curves and the run's loss curve.
    plots = {"heldout_success.png": args.out / "heldout" / "mean_success.png",
             "heldout_precision.png": args.out / "heldout" / "mean_precision.png",
             "training_loss_curve.png": Path(args.weights).parent / "loss_curve.png"}
    if restarts_report is not None:   # only this run's: an earlier run's bars in --out must not ship with this card
        plots["heldout_restarts.png"] = args.out / "heldout_restarts" / "per_video_auc.png"
    for name, source in plots.items():
        if source.is_file():
            shutil.copyfile(source, target.parent / name)
    arms_table = ARMS_TABLE.read_text() if ARMS_TABLE.is_file() else None
    card = model_card(info, model, report, args.out / "heldout", ablation, arms_table, backend=ours.backend,
                      restarts_report=restarts_report, starts=args.starts,
                      other_threads=(other_threads, other_report.means[other_name]))
    card += "\n![held-out success](heldout_success.png) ![held-out precision](heldout_precision.png)\n" \
            "![training loss](training_loss_curve.png)\n"
    if restarts_report is not None:
        card += "![held-out per sequence, from several start frames](heldout_restarts.png)\n"
    (target.parent / "MODEL_CARD.md").write_text(card)
    print(card)
    print(f"shipped {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
