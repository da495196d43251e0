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
The package's generated ROS interfaces, importable from a source checkout as well as from the install tree.

colcon installs the rosidl-generated modules (``viltrack_ros.msg``, ``viltrack_ros.srv``) into
``install/.../site-packages/viltrack_ros``. When Python imported ``viltrack_ros`` from the source checkout first
(pytest or ``python -m`` from the repository root, an editable pip install), that package has no ``msg``/``srv``.
Extending the package path with every ``viltrack_ros`` folder on ``sys.path`` lets both halves resolve, with the
checkout's hand-written modules taking precedence.
"""
import pkgutil

import viltrack_ros

viltrack_ros.__path__ = pkgutil.extend_path(viltrack_ros.__path__, viltrack_ros.__name__)

try:
    from viltrack_ros.msg import TrackedObject, TrackedObjectArray  # noqa: E402
    from viltrack_ros.srv import InitTarget, StopTarget  # noqa: E402
except ImportError as error:  # pragma: no cover - depends on the build
    raise ImportError(
        'viltrack_ros interfaces are not built: run scripts/setup.sh (or colcon build) and source '
        'scripts/env.sh (or install/setup.bash)') from error

__all__ = ['TrackedObject', 'TrackedObjectArray', 'InitTarget', 'StopTarget']
