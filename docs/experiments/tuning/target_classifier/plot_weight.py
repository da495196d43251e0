"""weight.png: val and dev success AUC (5 start frames each) against classifier_weight, from weight.json here."""
from pathlib import Path

from viltrack_ros.training.experiment import plot_tuning_curve

HERE = Path(__file__).parent
plot_tuning_curve([HERE / "weight.json"], 0.4, "classifier_weight (0 = the network alone; 0.4 shipped)",
                  "Each target's online classifier, shipped weights", HERE / "weight.png")
