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
The README demo's search crops and score maps at chosen frames.

What docs/experiments/distractors/demo_score_maps.png shows:
python docs/experiments/distractors/demo_score_maps.py WEIGHTS|- 150,153,155,157,159,162 OUT.png
Left of each pair the search crop, right the network's score (sigmoid) over it; the title has the frame, the tracker's
confidence and the best score. A diagnostic patched onto the tracker from outside.
"""
import cv2
import numpy as np
import sys
from viltrack_ros.tracking import ViLTracker
from viltrack_ros.tracking.crop import crop_and_resize
cap = cv2.VideoCapture('/usr/share/doc/opencv-doc/examples/data/vtest.avi')
frames = []
while len(frames) < 300:
    ok, f = cap.read()
    if not ok:
        break
    frames.append(np.ascontiguousarray(f[:, :, ::-1]))
weights = sys.argv[1] if sys.argv[1] != '-' else None
sel = [int(x) for x in sys.argv[2].split(',')]
t = ViLTracker.from_checkpoint(weights)
t.init(frames[0], np.array((638.0, 238.0, 48.0, 84.0)))
m = t._multi
cap_out = {}
orig = m._network_step


def step(targets, searches):
    out = orig(targets, searches)
    cap_out['score'] = out[0]
    cap_out['search'] = searches
    cap_out['box'] = targets[0].box.copy()
    return out


m._network_step = step
tiles = []
for i in range(1, max(sel)+1):
    r = t.update(frames[i])
    if i in sel:
        crop, tr = crop_and_resize(frames[i], cap_out['box'], m.config.search_factor, m.model_config.search_size)
        sc = 1/(1+np.exp(-cap_out['score'][0].reshape(m.model_config.search_grid, -1)))
        heat = cv2.resize((sc*255).astype(np.uint8), crop.shape[:2][::-1], interpolation=cv2.INTER_NEAREST)
        heat = cv2.applyColorMap(heat, cv2.COLORMAP_JET)[:, :, ::-1]
        im = (0.6*crop + 0.4*heat).astype(np.uint8)
        im = cv2.resize(im, (240, 240), interpolation=cv2.INTER_NEAREST)
        cv2.putText(im, f"{i} c{r.confidence:.2f} max{sc.max():.2f}", (3, 15), 0, 0.45, (255, 255, 255), 1)
        tiles.append(np.hstack([cv2.resize(crop, (240, 240)), im]))
rows = [np.hstack(tiles[k:k+2]) for k in range(0, len(tiles), 2)]
cv2.imwrite(sys.argv[3], np.vstack(rows)[:, :, ::-1])
