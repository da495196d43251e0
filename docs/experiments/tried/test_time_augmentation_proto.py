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
Prototype: test-time augmentation of the search crop, scored on val and dev (held-out: never).

Two forms, both on the shipped weights with no training:

- ``flip WEIGHT``: the network also sees the search crop mirrored left-right, against the mirrored templates
  (their own template memory, the template box mirrored), and its maps are flipped back and averaged with the plain
  ones, the mirrored pass weighted ``WEIGHT``. The FiLM context and the classifier's features stay the plain pass's.
  Mirroring the crop mirrors the scene about the crop's centre, so cell ``(row, col)`` of the mirrored maps is cell
  ``(row, g - 1 - col)`` of the plain ones, and an x offset ``o`` from a cell's corner becomes ``1 - o``.
- ``scales ALT MARGIN``: each target is also searched in a crop of ``ALT`` x its size (the default 4.0), each crop
  decoded as shipped, and the other crop's box taken where its target confidence is higher by more than ``MARGIN``
  (SiamFC's scale search, with a box head). The classifier learns from the default crop only.
- ``plain``: the shipped tracker, the reference in the same code.

``--frame-step 3`` keeps every third frame (a fast target, or a node dropping frames).

    python docs/experiments/tried/test_time_augmentation_proto.py flip 0.5 --out OUT
"""
import argparse
from pathlib import Path

import numpy as np

from viltrack_ros.tracking import tracker
from viltrack_ros.tracking.crop import MeanColour, as_rgb, crop_and_resize
from viltrack_ros.tracking.decode import SizeChangeLimits, select_boxes, sigmoid
from viltrack_ros.training.experiment import tune

MultiTracker = tracker.MultiTracker
plain_template_input = MultiTracker._template_input
plain_encode_memory = MultiTracker._encode_memory
plain_network_step = MultiTracker._network_step


def mirrored_template_input(self, template: np.ndarray) -> np.ndarray:
    """Encode a template as shipped, keeping its mirror image's encoding for ``mirrored_encode_memory``."""
    self._last_mirror = self.backend.encode_templates(np.ascontiguousarray(template[None][..., ::-1]))[0]
    return plain_template_input(self, template)


def mirrored_encode_memory(self, target) -> None:
    """Encode the target's template memory, and that of its mirrored templates (a template update replaces #1)."""
    plain_encode_memory(self, target)
    if getattr(target, "mirror_templates", None) is None:
        target.mirror_templates = np.repeat(self._last_mirror[None], len(target.templates), axis=0)
    else:
        target.mirror_templates = target.mirror_templates.copy()
        target.mirror_templates[1] = self._last_mirror
    box = target.template_box.copy()
    box[0] = 1.0 - box[0]
    target.mirror_memory = self.backend.encode_memory(target.mirror_templates[None], box[None])


def flipped_network_step(self, targets, searches):
    """Return the network's outputs, the score, offset and size maps averaged with the mirrored pass's."""
    outputs = plain_network_step(self, targets, searches)
    if not all(getattr(t, "mirror_memory", None) is not None for t in targets):
        return outputs
    context, active = self._film_contexts(targets)
    memory = tuple(np.concatenate(parts) for parts in zip(*(t.mirror_memory for t in targets)))
    mirrored = self.backend.step_with_memory(memory, np.ascontiguousarray(searches[..., ::-1]), context, active)
    logits, offset, size = (a[..., ::-1] for a in mirrored[:3])
    offset = offset.copy()
    offset[:, 0] = 1.0 - offset[:, 0]
    w = MIRROR_WEIGHT
    averaged = [(1 - w) * plain + w * flipped for plain, flipped in zip(outputs[:3], (logits, offset, size))]
    return tuple(averaged) + tuple(outputs[3:])


def two_scale_update(self, image, frames_elapsed: int = 1):
    """
    ``MultiTracker.update`` with every target searched at two crop scales; see the module's doc.

    Follows today's update for the search lead (missed frames, fast targets); the camera-motion following (off by
    default), the blank-crop rule and the NaN faults are left out.
    """
    if not self._targets:
        return {}
    image = as_rgb(image)
    ids = list(self._targets)
    targets = [self._targets[i] for i in ids]
    cfg, size = self.config, self.model_config.search_size
    mean_colour = MeanColour(image)
    limits = SizeChangeLimits.from_config(cfg)
    centres = [t.box[:2] + t.box[2:] / 2 + self._search_lead(t, frames_elapsed) * t.velocity for t in targets]
    passes = []
    for factor in (ALT_FACTOR, cfg.search_factor):   # the default last: the classifier learns from the last crop
        crops, transforms = zip(*(crop_and_resize(image, t.box, factor, size, center=tuple(c),
                                                  mean_colour=mean_colour)
                                  for t, c in zip(targets, centres)))
        score_logits, offset, box_size, next_context, appearance = self._network_step(
            targets, np.stack([tracker.normalised_chw(c) for c in crops]))
        box_size = box_size * np.stack([t.size_correction for t in targets])[:, :, None, None]
        previous_wh = np.array([[t.box[2] * tr.scale / size, t.box[3] * tr.scale / size]
                                for t, tr in zip(targets, transforms)], dtype=np.float32)
        scores = sigmoid(score_logits)
        ranking = self._ranking(targets, scores, appearance, [True] * len(targets))
        boxes, network_scores, cells = select_boxes(scores, offset, box_size, self._window, cfg.window_influence,
                                                    previous_wh, limits, ranking=ranking)
        confidences = network_scores if ranking is None else ranking.reshape(len(targets), -1)[
            np.arange(len(targets)), cells]
        passes.append((transforms, boxes, confidences, network_scores, next_context))
    results = {}
    for i, (target_id, target) in enumerate(zip(ids, targets)):
        use_alt = passes[0][2][i] > passes[1][2][i] + MARGIN
        transforms, boxes, confidences, network_scores, next_context = passes[0 if use_alt else 1]
        target.film_context = next_context[i]
        cx, cy, w, h = boxes[i] * size
        image_box = transforms[i].crop_to_image_box((cx - w / 2, cy - h / 2, w, h))
        results[target_id] = self._advance(target, image, image_box, float(confidences[i]), float(network_scores[i]),
                                           False, frames_elapsed)
        if (not use_alt and target.classifier is not None and cfg.classifier_weight > 0
                and results[target_id].status == tracker.TrackStatus.TRACKING
                and network_scores[i] >= cfg.classifier_learn_threshold):
            target.classifier.learn(boxes[i])
    return results


parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
parser.add_argument("form", choices=["plain", "flip", "scales"])
parser.add_argument("values", nargs="*", type=float, help="flip: WEIGHT; scales: ALT MARGIN")
parser.add_argument("--frame-step", type=int, default=1)
parser.add_argument("--out", type=Path, required=True)
args = parser.parse_args()
if args.form == "flip":
    (MIRROR_WEIGHT,) = args.values
    MultiTracker._template_input = mirrored_template_input
    MultiTracker._encode_memory = mirrored_encode_memory
    MultiTracker._network_step = flipped_network_step
elif args.form == "scales":
    ALT_FACTOR, MARGIN = args.values
    MultiTracker.update = two_scale_update
tune(Path("viltrack_ros/weights/viltrack_default.pt"), [], args.out, 1, restarts=5, frame_step=args.frame_step)
