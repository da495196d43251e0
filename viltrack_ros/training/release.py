"""Ship a trained checkpoint as the package default: held-out evaluation beside CSRT/KCF, then weights + model card.

    python -m viltrack_ros.training.release --weights runs/vil_cpu/best.pt [--sequences DIR] [--threads 1]

The held-out sequences (config/data_splits.yaml) are scored here and nowhere in training or checkpoint choice.
Writes ``viltrack_ros/weights/viltrack_default.pt`` (the evaluation folded into its training record) and
``viltrack_ros/weights/MODEL_CARD.md``, and the full report (tables, plots) under ``--out``.
"""
from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import torch

from ..data.sequences import load_sequence_folders
from ..data.splits import DEFAULT_SEQUENCES_ROOT, REPO_ROOT, load_data_splits
from ..evaluation.runner import evaluate, write_report
from ..evaluation.trackers import OpenCVTracker, ViLTrackerAdapter
from ..model.checkpoint import default_weights_path, load_checkpoint, save_checkpoint
from ..model.network import count_parameters
from ..tracking import TrackerConfig, ViLTracker

OURS = "ViLTrack"


def model_card(info: dict, model, report, eval_dir: Path, ablation: dict | None) -> str:
    training = info["training"]
    config = model.config
    means = report.means
    ours, csrt = means[OURS], means.get("CSRT")
    lines = [
        "# Model card: viltrack_default.pt", "",
        f"Preset `{config.name}` (dim {config.dim}, depth {config.depth}, patch {config.patch_size}, template "
        f"{config.template_size} px x{config.num_templates}, search {config.search_size} px, scan order "
        f"`{config.scan_order}`), {count_parameters(model):,} parameters. Trained: **{info['trained']}**.", "",
        "## Training", "",
        f"- Data: {json.dumps(training.get('data', {}))}. Synthetic sequences (textured objects moving over real "
        "photos from Debian's opencv-doc, with scale change, rotation, blur, illumination change, occlusion and "
        "distractors), static-image pairs from the same photos, and the development sequences "
        f"{', '.join(load_data_splits().dev)}.",
        f"- Steps: {training.get('steps')} (batch {training.get('config', {}).get('batch_size')}); stages: "
        + ", ".join(f"{s['name']} {s['steps']} (K={s['search_frames']}, FiLM steps={s['temporal_steps']}"
                    f"{', shared experts frozen' if s['freeze_shared_experts'] else ''})"
                    for s in training.get("config", {}).get("stages", [])) + ".",
        f"- Hardware: {training.get('hardware')}; wall time {training.get('wall_time_s')} s "
        f"({training.get('wall_time_s', 0) / 3600:.2f} h).",
        *([f"- Continued from `{earlier['path']}`: {earlier['steps']} earlier steps, {earlier['wall_time_s']} s "
           f"(stages: " + ", ".join(f"{s['name']} {s['steps']}" for s in earlier.get("stages") or []) + ")."]
          if (earlier := training.get("initialised_from")) else []),
        "- Checkpoint choice: " + training.get(
            "checkpoint_choice", f"best mean AUC on the first "
            f"{training.get('config', {}).get('val_frames_per_sequence')} frames of the development sequences "
            f"({training.get('best_dev_auc', float('nan')):.3f})") + ".", "",
        "## Held-out evaluation (OTB protocol, same frames and same run for every tracker)", "",
        f"Held-out sequences, never trained on nor used to choose checkpoints or settings: "
        f"{', '.join(report.sequences)}. Frame 1 is the initialisation and not scored; absent-target frames are "
        "not scored; success counts IoU > threshold over 21 thresholds (a perfect tracker scores 20/21 = 0.952).",
        "", report.markdown_table(), "",
        f"Machine: {platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()}, "
        f"{datetime.now(timezone.utc).date()}. Plots and per-frame boxes: `{eval_dir}`.", "",
    ]
    if ablation:
        lines += ["## Online template update (the MixFormer-style gate), measured on the held-out sequences", "",
                  "| online template update | success AUC | precision @20px |", "|---|---:|---:|"]
        for name, score in ablation.items():
            lines.append(f"| {name} | {score.auc:.3f} | {score.precision:.3f} |")
        lines.append("")
    verdict = "above" if csrt is not None and ours.auc > csrt.auc else "below"
    faster = "faster" if csrt is not None and ours.fps >= csrt.fps else "slower"
    lines += ["## Where it stands", "",
              f"Mean success AUC {ours.auc:.3f} vs CSRT {csrt.auc:.3f} ({verdict} CSRT), at {ours.fps:.1f} FPS vs "
              f"CSRT {csrt.fps:.1f} FPS ({faster}) on this CPU, in the same run." if csrt is not None else "", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weights", required=True, help="the trained checkpoint to ship")
    parser.add_argument("--sequences", type=Path, default=DEFAULT_SEQUENCES_ROOT)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "outputs" / "release")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dest", type=Path, default=default_weights_path(),
                        help="where the shipped checkpoint goes (its MODEL_CARD.md goes beside it)")
    parser.add_argument("--no-ablation", action="store_true", help="skip the online-update on/off comparison")
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
    trackers = [ViLTrackerAdapter(ViLTracker(model), name=OURS), OpenCVTracker("CSRT"), OpenCVTracker("KCF")]
    report = evaluate(trackers, sequences, metadata={"weights": args.weights, "threads": args.threads})
    write_report(report, args.out / "heldout")
    ablation = None
    if not args.no_ablation and model.config.num_templates > 1:
        off = ViLTrackerAdapter(ViLTracker(model, TrackerConfig(online_template_update=False)), name="off")
        off_report = evaluate([off], sequences, progress=True)
        ablation = {"on (shipped default)": report.means[OURS], "off": off_report.means["off"]}
    training = dict(info["training"])
    training["heldout_eval"] = {name: {"auc": round(s.auc, 4), "precision": round(s.precision, 4),
                                       "fps": round(s.fps, 1)} for name, s in report.means.items()}
    training["heldout_sequences"] = list(report.sequences)
    target = args.dest
    save_checkpoint(target, model, trained=True, training=training)
    info["training"] = training
    # Plots a person looks at, beside the card (small PNGs): held-out curves and the run's loss curve.
    plots = {"heldout_success.png": args.out / "heldout" / "mean_success.png",
             "heldout_precision.png": args.out / "heldout" / "mean_precision.png",
             "training_loss_curve.png": Path(args.weights).parent / "loss_curve.png"}
    for name, source in plots.items():
        if source.is_file():
            shutil.copyfile(source, target.parent / name)
    card = model_card(info, model, report, args.out / "heldout", ablation)
    card += "\n![held-out success](heldout_success.png) ![held-out precision](heldout_precision.png)\n" \
            "![training loss](training_loss_curve.png)\n"
    (target.parent / "MODEL_CARD.md").write_text(card)
    print(card)
    print(f"shipped {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
