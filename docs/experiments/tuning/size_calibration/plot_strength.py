"""strength.png: val and dev success AUC (5 start frames each) against size_calibration, from the tune runs here."""
import json
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).parent
points = {}
for name in ("size_cal.json", "size_cal2.json"):
    for setting, scores in json.loads((HERE / name).read_text())["settings"].items():
        points[float(setting.split("=")[1])] = (scores["val"]["auc"], scores["dev"]["auc"])
strengths = sorted(points)
fig, ax = plt.subplots(figsize=(5.5, 3.6))
for index, label in enumerate(("val (8 sequences)", "dev (5 sequences)")):
    ax.plot(strengths, [points[s][index] for s in strengths], marker="o", label=label)
ax.plot(strengths, [sum(points[s]) / 2 for s in strengths], marker="s", linestyle="--", color="k", label="mean")
ax.axvline(0.7, color="grey", linewidth=0.8)
ax.set_xlabel("size_calibration (0 = off; 0.7 shipped)")
ax.set_ylabel("success AUC, 5 starts")
ax.set_title("Size calibration at init, shipped weights")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(HERE / "strength.png", dpi=100)
