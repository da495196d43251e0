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
``viltrack eval``: our tracker and OpenCV's CSRT and KCF on the same frames, OTB protocol.

viltrack eval --sequences DIR [--weights FILE] [--only NAMES] [--split heldout|dev|all] [--out DIR]
              [--no-peers] [--no-ours] [--frame-step N] [--shake PIXELS]
"""
from __future__ import annotations

import argparse
import logging
import sys
import zlib
from datetime import datetime
from pathlib import Path

from viltrack_ros.data.sequences import ShakenSequence, frame_step_argument, frame_step_sequences, load_sequence_folders
from viltrack_ros.data.splits import DEFAULT_SEQUENCES_ROOT, REPO_ROOT, SPLIT_NAMES, load_data_splits
from viltrack_ros.log import get_logger
from viltrack_ros.settings import assignments_dict, at_least, positive_number, thread_count
from viltrack_ros.tracking.backends import BACKENDS

LOGGER = get_logger("viltrack.eval")

DEFAULT_SEQUENCES = DEFAULT_SEQUENCES_ROOT
DEFAULT_OUT = REPO_ROOT / "outputs" / "eval"
PEERS = ("CSRT", "KCF", "NanoTrack")


def add_eval_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--sequences", type=Path, default=DEFAULT_SEQUENCES,
                        help=f"folder of sequence folders (<name>/00000001.jpg + groundtruth.txt); "
                             f"default {DEFAULT_SEQUENCES}")
    parser.add_argument("--weights", default=None, help="our checkpoint (default: the package's default weights)")
    parser.add_argument("--only", default=None,
                        help="comma-separated sequence names (overrides --split)")
    parser.add_argument("--split", choices=SPLIT_NAMES, default="dev",
                        help="sequences of config/data_splits.yaml to use: dev (default; what settings are chosen "
                             "on), heldout (the model card's numbers: score them, never choose with them), or all "
                             "sequences found in the folder")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"output folder (default {DEFAULT_OUT}/<date-time>)")
    parser.add_argument("--no-peers", action="store_true",
                        help="do not run the peers (OpenCV CSRT, KCF and NanoTrack v2)")
    parser.add_argument("--no-ours", action="store_true", help="do not run our tracker (peers only)")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help="reference trackers to run (default CSRT,KCF,NanoTrack; NanoTrack is skipped with a "
                             "printed reason when its ONNX files are absent)")
    parser.add_argument("--nanotrack", default=None, metavar="DIR",
                        help="folder with NanoTrack v2's ONNX files (default ../shared/models/nanotrack_v2)")
    parser.add_argument("--peers-hold-last-box", action="store_true",
                        help="also run each peer reporting its last good box where OpenCV reports failure "
                             "(rows named <PEER>+hold)")
    parser.add_argument("--tracker-set", action="append", default=[], metavar="KEY=VALUE",
                        help="a tracker setting for our tracker (TrackerConfig), e.g. window_influence=0.3; "
                             "repeatable (settings are chosen on dev sequences, never held-out ones)")
    parser.add_argument("--device", default="cpu", help="device for our tracker: cpu, cuda or auto")
    parser.add_argument("--backend", default="auto", choices=BACKENDS,
                        help="who runs our network (auto: onnxruntime on CPU when installed)")
    parser.add_argument("--max-frames", type=at_least(1), default=None,
                        help="track at most this many frames per sequence")
    parser.add_argument("--frame-step", type=frame_step_argument, default=1, metavar="N|A-B",
                        help="keep every N-th frame of each sequence: the videos at 1/N of their frame rate, as a "
                             "fast target or a node dropping frames sees them; A-B: each step A to B frames, drawn "
                             "per step, as a busy node drops them (ours is told each step; default 1: every frame)")
    parser.add_argument("--shake", type=positive_number, default=None, metavar="PIXELS",
                        help="shift every frame after the first (and its truth) by its own random offset of up to "
                             "this many pixels in x and y, the same for every tracker: a shaking camera (compare "
                             "ours with --tracker-set camera_motion=true; default: as recorded)")
    parser.add_argument("--threads", type=thread_count, default=None,
                        help="CPU threads for torch and OpenCV (default: their own defaults)")
    parser.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    parser.add_argument("--quiet", action="store_true", help="no progress bar, warnings only")
    return parser


def select_sequence_names(args) -> list[str] | None:
    """Names to load, from ``--only`` or ``--split``; None means every sequence in the folder."""
    if args.only is not None:
        # Each name once, in the order given: a name given twice would be run twice and weigh twice in the means.
        names = list(dict.fromkeys(name.strip() for name in args.only.split(",") if name.strip()))
        if not names:
            raise ValueError(f"--only {args.only!r} names no sequence")
        return names
    if args.split == "all":
        return None
    return load_data_splits().names(args.split)


def run_eval(args) -> int:
    """Entry point behind ``viltrack eval``; returns the process exit code."""
    from viltrack_ros.evaluation.runner import evaluate, write_report
    from viltrack_ros.evaluation.trackers import ViLTrackerAdapter, peer_trackers

    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.threads:
        import cv2
        import torch
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    try:
        sequences = frame_step_sequences(load_sequence_folders(args.sequences, select_sequence_names(args)),
                                         args.frame_step)
        if args.shake:    # seeded by name: a sequence's offsets are the same whichever others are chosen with it
            sequences = [ShakenSequence(s, args.shake, seed=zlib.crc32(s.name.encode())) for s in sequences]
    except (OSError, ValueError) as exc:
        hint = ("; --split dev (the default) names the shared development sequences: give --split all for every "
                "sequence of another folder" if args.only is None and args.split == "dev" else "")
        print(f"error: {exc}{hint}", file=sys.stderr)
        return 2

    trackers, metadata = [], {"sequences_root": str(args.sequences), "split": "only" if args.only else args.split,
                              "device": args.device, "threads": args.threads, "max_frames": args.max_frames,
                              "frame_step": args.frame_step, "shake": args.shake}
    if not args.no_ours:
        try:
            settings = assignments_dict(args.tracker_set, "--tracker-set")
            ours = ViLTrackerAdapter.from_checkpoint(args.weights, device=args.device, settings=settings,
                                                     backend=args.backend)
        except (ImportError, OSError, ValueError) as exc:
            print(f"error: cannot load our tracker ({exc}); use --no-ours to run the peers alone",
                  file=sys.stderr)
            return 2
        trackers.append(ours)
        metadata["weights"] = ours.info.get("path")
        metadata["trained"] = ours.info.get("trained")
        metadata["preset"] = (ours.info.get("model_config") or {}).get("name")
        metadata["tracker_settings"] = ours.tracker.config.to_dict()
    if not args.no_peers:
        try:
            peers, skipped = peer_trackers(args.peers, args.nanotrack, hold_last_box=args.peers_hold_last_box)
        except (ValueError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for reason in skipped:
            print(reason)
        trackers.extend(peers)
        metadata["peers_skipped"] = skipped
    if not trackers:
        print("error: nothing to evaluate (no tracker of ours, no peer: see --no-ours, --no-peers and --peers)",
              file=sys.stderr)
        return 2
    import torch
    metadata["torch_threads"] = torch.get_num_threads()

    out_dir = args.out or DEFAULT_OUT / datetime.now().strftime("%Y%m%d-%H%M%S")
    try:   # before the run: an output folder that cannot be made fails now, not after it
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"error: cannot write {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        report = evaluate(trackers, sequences, max_frames=args.max_frames, progress=not args.quiet,
                          metadata=metadata)
    except ValueError as exc:   # e.g. every sequence shorter than --frame-step: nothing to score
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_report(report, out_dir, plots=not args.no_plots)
    print(report.markdown_table())
    print(f"results written to {out_dir}")
    return 0


def main(argv: list[str] | None = None) -> int:
    summary = __doc__.strip().split("\n")[0]
    parser = add_eval_arguments(argparse.ArgumentParser(prog="viltrack eval", description=summary))
    return run_eval(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
