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
Val against dev AUC (5 start frames, default settings) of the first stage under each lever tried on 2026-12-06.

One point per seed, beside the control's own points at three seeds: a lever that mattered would leave the control's
cloud; none does. The reaching head of the day before is drawn for contrast: it leaves it to the right (val).

    python docs/experiments/first_stage_levers/plot_levers.py    # writes levers.png beside this file
"""
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

EXPERIMENTS = Path(__file__).resolve().parents[1]
SHIPPED = (0.639, 0.626)   # the shipped weights (whole recipe), same tool and settings
# (label, marker, [(seed, 5-start table under docs/experiments)])
LEVERS = [
    ("control (shipped recipe's first stage)", "o",
     [(seed, f"offset_reach/seeds/b2_control_seed{seed}_5_starts.json") for seed in (1, 3, 5)]),
    ("stem: NanoTrack v2's backbone", "s",
     [(seed, f"nanotrack_stem/nanotrack_stem_seed{seed}_5_starts.json") for seed in (1, 3)]),
    ("+ depthwise cross-correlation", "D",
     [(seed, f"depthwise_correlation/depthwise_seed{seed}_5_starts.json") for seed in (1, 3)]),
    ("cosine prior over all 25 template cells", "^",
     [(seed, f"all_template_cells/all_cells_seed{seed}_5_starts.json") for seed in (1, 3)]),
    ("lr 1e-3", "P", [(1, "first_stage_lr/b2_control_lr1e-3_5_starts.json")]),
    ("lr 2.5e-4", "X", [(1, "first_stage_lr/b2_control_lr2.5e-4_5_starts.json")]),
    # For contrast, a lever that does move val (the day before: the reaching head, offset_reach 0.5).
    ("offset_reach 0.5 (earlier, for contrast)", "v",
     [(1, "offset_reach/nearer/b2_offset_reach_nearer_5_starts.json")]
     + [(seed, f"offset_reach/nearer/b2_offset_reach_nearer_seed{seed}_5_starts.json") for seed in (3, 5)]),
]


def scores(path: Path) -> tuple[float, float]:
    defaults = json.loads(path.read_text())["settings"]["defaults"]
    return defaults["val"]["auc"], defaults["dev"]["auc"]


def main() -> None:
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    for index, (label, marker, runs) in enumerate(LEVERS):
        points = [(seed, *scores(EXPERIMENTS / name)) for seed, name in runs if (EXPERIMENTS / name).is_file()]
        if not points:
            continue
        ax.scatter([p[1] for p in points], [p[2] for p in points], marker=marker, s=70, color=f"C{index}",
                   label=label, zorder=3)
        for seed, val, dev in points:
            ax.annotate(f"s{seed}", (val, dev), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.scatter(*SHIPPED, marker="*", s=200, color="black", label="shipped weights (whole recipe)", zorder=3)
    ax.set_xlabel("val success AUC (8 sequences x 5 starts)")
    ax.set_ylabel("dev success AUC (5 sequences x 5 starts)")
    ax.set_title("The first stage under each lever, one point per seed")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(Path(__file__).with_name("levers.png"), dpi=110)


if __name__ == "__main__":
    main()
