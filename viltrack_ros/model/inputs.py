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
The network's input contract: how its template and search crops are cut and normalised.

Training (``data``, ``training``) and tracking (``tracking``) both cut crops to it, so it lives with the network they
share: a crop cut another way than the network learnt is one it has never seen.
"""
import numpy as np

# Crop geometry: a crop's side as a multiple of sqrt(w*h) of the box it is cut around (OSTrack's factors). The
# tracker's template_factor and search_factor settings default to these; the head's size initialisation assumes
# their ratio (a box is half as large a fraction of the search crop as of the template crop).
TEMPLATE_FACTOR = 2.0
SEARCH_FACTOR = 4.0

# Input normalisation: ImageNet's mean and standard deviation per RGB channel, for images in [0, 1] and in 0-255.
IMAGENET_MEAN_01 = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD_01 = np.array([0.229, 0.224, 0.225], dtype=np.float32)
IMAGENET_MEAN_255 = IMAGENET_MEAN_01 * 255.0
IMAGENET_STD_255 = IMAGENET_STD_01 * 255.0
