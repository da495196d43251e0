"""The learning curve of the data-amount arms: val and dev success AUC (5 start frames, default settings) and the
final training IoU of the clip stage, against the stored train frames the recipe was trained on.

    python docs/experiments/data_amount/plot.py --out docs/experiments/data_amount/learning_curve.png \
        2459=docs/experiments/data_amount/quarter_continued_5_starts.md:docs/experiments/data_amount/b2_quarter_data_continued/log.csv \
        4960=...half... 9779=docs/experiments/hard_donors/own_video_continued_5_starts.md:docs/experiments/hard_donors/b2_distractors_own_video_continued/log.csv

Each FRAMES=TABLE:LOG pairs a `viltrack experiment --tune` table (its ``defaults`` row) with the run's log.csv.
"""
import argparse
import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def defaults_row(table: Path) -> tuple[float, float]:
    """(val AUC, dev AUC) of the ``defaults`` row of a tuning table."""
    for line in table.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] == "defaults":
            return float(cells[1]), float(cells[2])
    raise ValueError(f"{table}: no 'defaults' row")


def final_training_iou(log: Path) -> float:
    rows = list(csv.DictReader(log.open()))
    return float(rows[-1]["iou"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("points", nargs="+", help="FRAMES=TUNING_TABLE.md:LOG.csv")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    points = []
    for point in args.points:
        frames, paths = point.split("=", 1)
        table, log = paths.split(":")
        points.append((int(frames), *defaults_row(Path(table)), final_training_iou(Path(log))))
    points.sort()
    frames = [p[0] for p in points]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(frames, [p[1] for p in points], "o-", label="val AUC")
    ax.plot(frames, [p[2] for p in points], "s-", label="dev AUC")
    ax.plot(frames, [(p[1] + p[2]) / 2 for p in points], "k--", label="mean of val and dev")
    ax.plot(frames, [p[3] for p in points], "^:", color="grey", label="final training IoU")
    for f, val, dev, _ in points:
        ax.annotate(f"{(val + dev) / 2:.3f}", (f, (val + dev) / 2), textcoords="offset points", xytext=(6, -12))
    ax.set_xscale("log", base=2)
    ax.set_xticks(frames, [f"{f}\n({f / frames[-1]:.0%})" for f in frames])
    ax.set_xlabel("stored train frames trained on (share of the train split)")
    ax.set_ylabel("success AUC / IoU")
    ax.set_title("The shipped recipe on less video (same steps, seeds, schedule)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    for f, val, dev, iou in points:
        print(f"{f:5d} frames: val {val:.3f}  dev {dev:.3f}  mean {(val + dev) / 2:.3f}  training IoU {iou:.3f}")


if __name__ == "__main__":
    main()
