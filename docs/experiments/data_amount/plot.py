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
r"""
The learning curve of the data-amount arms.

Val and dev success AUC (5 start frames, default settings) and the final training IoU of the clip stage, against the
stored train frames the recipe was trained on.

    D=docs/experiments/data_amount; H=docs/experiments/hard_donors
    python $D/plot.py --out $D/learning_curve.png \
        2459=$D/quarter_continued_5_starts.md:$D/b2_quarter_data_continued/log.csv \
        4960=$D/half_continued_5_starts.md:$D/b2_half_data_continued/log.csv \
        7409=$D/three_quarters_continued_5_starts.md:$D/b2_three_quarters_data_continued/log.csv \
        9779=$H/own_video_continued_5_starts.md:$H/b2_distractors_own_video_continued/log.csv \
        --other 5080=$D/half_other_continued_5_starts.md:$D/b2_half_other_data_continued/log.csv \
        --other 7392=$D/three_quarters_other_continued_5_starts.md:$D/b2_three_quarters_other_data_continued/log.csv

Each FRAMES=TABLE:LOG pairs a `viltrack experiment --tune` table (its ``defaults`` row) with the run's log.csv;
``--other`` adds a point of another draw of videos, drawn apart from the curve (open markers).
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


def read_point(point: str) -> tuple[int, float, float, float]:
    """FRAMES=TABLE:LOG -> (frames, val AUC, dev AUC, final training IoU)."""
    frames, paths = point.split("=", 1)
    table, log = paths.split(":")
    return int(frames), *defaults_row(Path(table)), final_training_iou(Path(log))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip(), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("points", nargs="+", help="FRAMES=TUNING_TABLE.md:LOG.csv")
    parser.add_argument("--other", action="append", default=[], help="FRAMES=TUNING_TABLE.md:LOG.csv of another draw")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    points, others = sorted(map(read_point, args.points)), [read_point(p) for p in args.other]
    frames = [p[0] for p in points]
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(frames, [p[1] for p in points], "o-", label="val AUC")
    ax.plot(frames, [p[2] for p in points], "s-", label="dev AUC")
    ax.plot(frames, [(p[1] + p[2]) / 2 for p in points], "k--", label="mean of val and dev")
    ax.plot(frames, [p[3] for p in points], "^:", color="grey", label="final training IoU")
    for f, val, dev, _ in points:
        ax.annotate(f"{(val + dev) / 2:.3f}", (f, (val + dev) / 2), textcoords="offset points", xytext=(6, -12))
    for f, val, dev, iou in others:
        ax.plot([f] * 4, [val, dev, (val + dev) / 2, iou], linestyle="none", marker="o", mfc="none", color="tab:red")
        ax.annotate(f"another draw: {(val + dev) / 2:.3f}", (f, (val + dev) / 2), textcoords="offset points",
                    xytext=(-100, 14), color="tab:red", fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(frames, [f"{f}\n({f / frames[-1]:.0%})" for f in frames])
    ax.set_xlabel("stored train frames trained on (share of the train split)")
    ax.set_ylabel("success AUC / IoU")
    ax.set_title("The shipped recipe on less video (same steps, seeds, schedule)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center")   # the band between the AUCs and the IoUs is empty
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    for f, val, dev, iou in points + others:
        print(f"{f:5d} frames: val {val:.3f}  dev {dev:.3f}  mean {(val + dev) / 2:.3f}  training IoU {iou:.3f}")


if __name__ == "__main__":
    main()
