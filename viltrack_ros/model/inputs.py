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

# Input normalisation: ImageNet's mean and standard deviation per RGB channel.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# For crops (float32 arithmetic), images in [0, 1] and in 0-255.
IMAGENET_MEAN_01 = np.array(IMAGENET_MEAN, dtype=np.float32)
IMAGENET_STD_01 = np.array(IMAGENET_STD, dtype=np.float32)
IMAGENET_MEAN_255 = IMAGENET_MEAN_01 * 255.0
IMAGENET_STD_255 = IMAGENET_STD_01 * 255.0
# For the pretrained stems, which turn normalised crops back into pixels: the products in float64, rounded to
# float32 once (torch.tensor). These are the numbers the shipped weights were trained and scored with; the float32
# products above differ from them by one ulp in green (57.12), and that ulp alone moves boxes by pixels within ten
# frames on a hard sequence and the held-out mean by 0.02 (docs/MODEL.md, "How precisely the scores measure").
STEM_MEAN_255 = tuple(value * 255.0 for value in IMAGENET_MEAN)
STEM_STD_255 = tuple(value * 255.0 for value in IMAGENET_STD)
