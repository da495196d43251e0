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
The library's log records reach the application's handlers even after ROS 2's `launch` was imported.

`launch` makes every logger created after its import a non-propagating LaunchLogger (its pytest plugin imports it
at the start of every pytest run on a ROS installation); viltrack_ros.log.get_logger keeps the library's loggers
propagating.
"""
import subprocess
import sys

import pytest

SCRIPT = """
import logging, sys
import launch.logging                           # first, as launch_testing's pytest plugin does
from viltrack_ros.data.synthetic import PhotoLibrary
logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="root handler: %(name)s: %(message)s")
PhotoLibrary([])                                # warns: no background photos
"""


def test_library_warnings_reach_the_root_handler_after_launch_was_imported():
    # launch.logging, not launch: from the repository root, the launch/ folder imports as a namespace package.
    pytest.importorskip("launch.logging",
                        reason="ROS 2's launch is not installed here (scripts/setup.sh installs it from "
                               "../shared/ros2_cli_wheels; a ROS installation has it)")
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "root handler: viltrack_ros.data.synthetic: no background photos found" in result.stdout, \
        result.stdout + result.stderr
