"""strength.png: val and dev success AUC (5 start frames each) against size_calibration, from the tune runs here."""
from pathlib import Path

from viltrack_ros.training.experiment import plot_tuning_curve

HERE = Path(__file__).parent
plot_tuning_curve([HERE / "size_cal.json", HERE / "size_cal2.json"], 0.7, "size_calibration (0 = off; 0.7 shipped)",
                  "Size calibration at init, shipped weights", HERE / "strength.png")
