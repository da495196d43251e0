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
"""strength.png: val and dev success AUC (5 start frames each) against size_calibration, from the tune runs here."""
from pathlib import Path

from viltrack_ros.training.experiment import plot_tuning_curve

HERE = Path(__file__).parent
plot_tuning_curve([HERE / "size_cal.json", HERE / "size_cal2.json"], 0.7, "size_calibration (0 = off; 0.7 shipped)",
                  "Size calibration at init, shipped weights", HERE / "strength.png")
