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
Loggers of the library that reach the application's handlers whatever else the process imported.

Importing ROS 2's ``launch`` (its pytest plugin does, in every pytest run on a ROS installation) makes
``LaunchLogger`` the class of every logger created afterwards, and a ``LaunchLogger`` does not propagate: records of
a module imported later would bypass the root logger's handlers (``logging.basicConfig``, pytest's ``caplog``) and
reach only Python's last-resort stderr handler. The library's loggers are created through ``get_logger``, which
keeps the standard propagation.
"""
import logging


def get_logger(name: str) -> logging.Logger:
    """``logging.getLogger(name)``, propagating to its parents and the root logger."""
    logger = logging.getLogger(name)
    logger.propagate = True
    return logger
