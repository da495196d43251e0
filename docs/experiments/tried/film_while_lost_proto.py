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
Tried and not kept: what happens to a target's FiLM temporal context while it is LOST.

FILM_MODE=freeze: keep the last TRACKING frame's context; reset: start clean, as after init; always: the tracker's
behaviour, update every frame.

    FILM_MODE=reset python docs/experiments/tried/film_while_lost_proto.py \
        --tune viltrack_ros/weights/viltrack_default.pt \
        --grid classifier_weight=0.4 --restarts 5 --threads 1 --out OUT

Patches the tracker's source at run time (a prototype, not product code). Results: film_while_lost.md.
"""
import os
import sys
import viltrack_ros.tracking.tracker as T
src = open(T.__file__).read()
old = """        for index, target in enumerate(targets):
            target.film_context = next_context[index]
"""
assert old in src
new = """        for index, target in enumerate(targets):
            if target.status != TrackStatus.LOST or os.environ.get("FILM_MODE") == "always":
                target.film_context = next_context[index]
            elif os.environ.get("FILM_MODE") == "reset":
                target.film_context = None
"""
src = src.replace(old, new)
exec(compile(src, T.__file__, "exec"), T.__dict__)
import viltrack_ros.tracking as TT
TT.MultiTracker = T.MultiTracker
TT.ViLTracker = T.ViLTracker
if os.environ.get("RUN_DEMO"):
    sys.path.insert(0, "docs/experiments/demo_truth")
    import demo_truth
    demo_truth.main()
    sys.exit(0)
from viltrack_ros.training.experiment import main
sys.exit(main(sys.argv[1:]))
