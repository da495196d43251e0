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
Val and dev AUC (5 start frames, default settings) of every head variant and its control.

One point per seed, so a difference can be read against the spread between seeds of one recipe.

    python docs/experiments/offset_reach/plot_heads.py    # writes docs/experiments/offset_reach/heads.png
"""
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).resolve().parent
SHIPPED = (0.639, 0.626)   # the shipped weights, same tool and settings (README.md here)
# (label, marker, [(seed, 5-start table)]): first stages (one seed) or whole recipes (seeds "first+clip").
RECIPES = [
    ("control (shipped recipe's first stage)", "o",
     [(1, "seeds/b2_control_seed1_5_starts.json"), (3, "seeds/b2_control_seed3_5_starts.json"),
      (5, "seeds/b2_control_seed5_5_starts.json")]),
    ("reach 1, neighbours 0.25", "s",
     [(1, "offset_reach_centre_first_stage_5_starts.json"),
      (3, "seeds/b2_offset_reach_centre_seed3_5_starts.json")]),
    ("reach 1, alike", "^", [(1, "offset_reach_first_stage_5_starts.json")]),
    ("reach 0.5 (nearer side)", "D",
     [(1, "nearer/b2_offset_reach_nearer_5_starts.json"), (3, "nearer/b2_offset_reach_nearer_seed3_5_starts.json"),
      (5, "nearer/b2_offset_reach_nearer_seed5_5_starts.json")]),
    ("reach 1, neighbours 0.25, IoU-aware score", "P",
     [(1, "iou_score/b2_offset_reach_centre_iou_score_5_starts.json")]),
    ("reach 1, neighbours 0.25, + clip stage lr 1e-4", "X",
     [("1+2", "nearer/b2_offset_reach_centre_gentle_clips_5_starts.json")]),
    # The whole recipes (first stage, then the 2-frame clip stage): seed 1 then 2, as shipped; seed 3 then 4.
    ("control + clip stage", "o",
     [("1+2", "../hard_donors/own_video_continued_5_starts.md"),
      ("3+4", "seeds/b2_control_seed3_continued_5_starts.json")]),
    ("reach 1, neighbours 0.25, + clip stage", "s",
     [("1+2", "offset_reach_centre_continued_5_starts.json"),
      ("3+4", "seeds/b2_offset_reach_centre_seed3_continued_5_starts.json")]),
    ("reach 0.5 + clip stage", "D",
     [("1+2", "nearer/b2_offset_reach_nearer_continued_5_starts.json"),
      ("3+4", "nearer/b2_offset_reach_nearer_seed3_continued_5_starts.json")]),
]


def _val_dev(table: Path) -> tuple[float, float]:
    """Val and dev AUC of the default settings from a tuning table (.json, or the .md that older runs kept)."""
    if table.suffix == ".json":
        scores = json.loads(table.read_text())["settings"]["defaults"]
        return scores["val"]["auc"], scores["dev"]["auc"]
    row = next(line for line in table.read_text().splitlines() if line.startswith("| defaults |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    return float(cells[1]), float(cells[2])


def main() -> None:
    fig, ax = plt.subplots(figsize=(11, 5.5))
    for label, marker, runs in RECIPES:
        points = []
        for seed, table in runs:
            path = HERE / table
            if not path.exists():
                continue
            points.append((*_val_dev(path), seed))
        if not points:
            continue
        line = ax.plot([p[0] for p in points], [p[1] for p in points], marker=marker, linestyle=":", label=label)[0]
        for val, dev, seed in points:
            tag = f"seed {seed}" if isinstance(seed, int) else f"seeds {seed}"
            ax.annotate(tag, (val, dev), textcoords="offset points", xytext=(5, 4), fontsize=7,
                        color=line.get_color())
    ax.plot(*SHIPPED, marker="*", markersize=14, color="black", linestyle="none", label="shipped weights (both stages)")
    ax.margins(x=0.08)   # room for the labels of the outermost points
    ax.set_xlabel("val AUC (8 sequences x 5 starts)")
    ax.set_ylabel("dev AUC (5 sequences x 5 starts)")
    ax.set_title("Box heads: one point per training seed (dotted: the same recipe)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.02, 0.5))
    fig.tight_layout()
    fig.savefig(HERE / "heads.png", dpi=120)
    print(f"wrote {HERE / 'heads.png'}")


if __name__ == "__main__":
    main()
