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
r"""
Tried: the target classifier fitted on more views of the first frame (ATOM/DiMP's initial augmentation).

At init the classifier is fitted on the 5 shifted crops of the size calibration (FIRST_FRAME_SHIFTS). This prototype
adds views made from the centred crop: mirrored left-right (CLASSIFIER_FLIP=1), rotated about the target's centre by
+-each angle of CLASSIFIER_ROTATIONS (degrees, comma-separated), and blurred with a Gaussian of each sigma of
CLASSIFIER_BLURS (pixels of the search crop). The network runs on those views once, at init, for their stem features;
the size calibration still reads the 5 original views only. Run as the experiment tool, e.g.

    CLASSIFIER_FLIP=1 CLASSIFIER_ROTATIONS=10,20 CLASSIFIER_BLURS=1.5 \
        python docs/experiments/tried/classifier_views_proto.py \
        --tune viltrack_ros/weights/viltrack_default.pt --restarts 5 --threads 1 --out OUT

It patches the tracker's source at run time (a prototype, not product code). Results: classifier_views.md.
"""
import viltrack_ros.tracking.tracker as T

src = open(T.__file__).read()
old = """            if self.config.classifier_weight > 0:
                target.classifier = self._fit_classifier(outputs[4], boxes)"""
assert old in src
src = src.replace(old, """            if self.config.classifier_weight > 0:
                extra_features, extra_boxes = _augmented_views(self, target, image)
                features = outputs[4] if extra_features is None else np.concatenate([outputs[4], extra_features])
                all_boxes = boxes if extra_boxes is None else np.concatenate([boxes, extra_boxes])
                target.classifier = self._fit_classifier(features, all_boxes)""")
src += '''

def _augmented_views(tracker, target, image):
    import cv2
    flip = os.environ.get("CLASSIFIER_FLIP", "0") == "1"
    rotations = [float(a) for a in os.environ.get("CLASSIFIER_ROTATIONS", "").split(",") if a]
    blurs = [float(s) for s in os.environ.get("CLASSIFIER_BLURS", "").split(",") if s]
    if not (flip or rotations or blurs):
        return None, None
    size = tracker.model_config.search_size
    crop, transform = crop_and_resize(image, target.box, tracker.config.search_factor, size)
    bx, by, bw, bh = transform.image_to_crop_box(target.box)
    centre = (bx + bw / 2, by + bh / 2)
    fill = tuple(float(v) for v in crop.reshape(-1, 3).mean(axis=0))
    views, boxes = [], []
    normal = np.array([centre[0], centre[1], bw, bh], np.float32) / size
    if flip:
        views.append(np.ascontiguousarray(crop[:, ::-1]))
        boxes.append(np.array([1.0 - normal[0], normal[1], normal[2], normal[3]], np.float32))
    for angle in rotations:
        for signed in (angle, -angle):
            matrix = cv2.getRotationMatrix2D(centre, signed, 1.0)
            views.append(cv2.warpAffine(crop, matrix, (size, size), flags=cv2.INTER_LINEAR,
                                        borderMode=cv2.BORDER_CONSTANT, borderValue=fill))
            boxes.append(normal)
    for sigma in blurs:
        views.append(cv2.GaussianBlur(crop, (0, 0), sigma))
        boxes.append(normal)
    outputs = tracker._network_step([target] * len(views), np.stack([normalised_chw(v) for v in views]))
    return outputs[4], np.stack(boxes)
'''
exec(compile(src, T.__file__, "exec"), T.__dict__)
import viltrack_ros.tracking as TT
TT.MultiTracker = T.MultiTracker
TT.ViLTracker = T.ViLTracker

import sys   # noqa: E402
from viltrack_ros.training.experiment import main   # noqa: E402  (imported after the patch: it uses the new class)
sys.exit(main(sys.argv[1:]))
