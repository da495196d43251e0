"""weight.png: val and dev success AUC (5 start frames each) against classifier_weight, from weight.json here."""
import json
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = Path(__file__).parent
points = {float(setting.split("=")[1]): (scores["val"]["auc"], scores["dev"]["auc"])
          for setting, scores in json.loads((HERE / "weight.json").read_text())["settings"].items()}
weights = sorted(points)
fig, ax = plt.subplots(figsize=(5.5, 3.6))
for index, label in enumerate(("val (8 sequences)", "dev (5 sequences)")):
    ax.plot(weights, [points[w][index] for w in weights], marker="o", label=label)
ax.plot(weights, [sum(points[w]) / 2 for w in weights], marker="s", linestyle="--", color="k", label="mean")
ax.axvline(0.4, color="grey", linewidth=0.8)
ax.set_xlabel("classifier_weight (0 = the network alone; 0.4 shipped)")
ax.set_ylabel("success AUC, 5 starts")
ax.set_title("Each target's online classifier, shipped weights")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(HERE / "weight.png", dpi=100)
