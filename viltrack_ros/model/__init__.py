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
"""The ViL tracking network (no tracking logic, no ROS)."""
from .config import PRESETS, ModelConfig, get_preset
from .network import ViLTrackNet, build_model, count_parameters

__all__ = ["PRESETS", "ModelConfig", "get_preset", "ViLTrackNet", "build_model", "count_parameters"]
