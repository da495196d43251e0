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
"""Helpers for the ROS tests: a tracker node process, and a probe node that feeds it and listens to it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.srv import GetParameters, ListParameters, SetParameters
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter, parameter_value_to_python
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CompressedImage, Image

from viltrack_ros.ros.image_conversion import numpy_to_image_msg
from viltrack_ros.ros.interfaces import InitTarget, StopTarget, TrackedObject, TrackedObjectArray
from viltrack_ros.ros.tracking_adapter import NODE_NAME
RELIABLE = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=50, reliability=ReliabilityPolicy.RELIABLE)


class NodeProcess:
    """``python -m viltrack_ros.ros.tracker_node`` (or ``command``) as a child process, its output in a log file."""

    def __init__(self, log_path: Path, weights, parameters, extra_args, cwd: Path, command=None, params_file=None):
        self.log_path = Path(log_path)
        command = list(command or [sys.executable, "-m", "viltrack_ros.ros.tracker_node"])
        # A params file first: the -p assignments after it take precedence.
        ros_args = ["--ros-args"] + (["--params-file", str(params_file)] if params_file else []) + ["-p", "threads:=1"]
        if weights:
            ros_args += ["-p", f"weights:={weights}"]
        for parameter in parameters:
            ros_args += ["-p", parameter]
        self._log_file = open(self.log_path, "w")
        # One thread per node process: it shares the cores with the test process, and timings stay stable.
        self.process = subprocess.Popen(command + ros_args + list(extra_args), stdout=self._log_file,
                                        stderr=subprocess.STDOUT, cwd=cwd, env={**os.environ, "OMP_NUM_THREADS": "1"})

    def log(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log_path.read_text()

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_for_log(self, text: str, timeout: float) -> bool:
        """Wait until ``text`` is in the log (or the process ended); return whether it is."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            if text in self.log():
                return True
            time.sleep(0.1)
        return text in self.log()

    def wait_exit(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> int | None:
        if self.alive():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log_file.close()
        return self.process.returncode


def frame_msg(pixels: np.ndarray, sec: int, encoding: str = "bgr8", frame_id: str = "camera_optical_frame",
              nanosec: int = 0) -> Image:
    msg = numpy_to_image_msg(pixels, encoding)
    msg.header.stamp.sec, msg.header.stamp.nanosec = sec, nanosec
    msg.header.frame_id = frame_id
    return msg


def stamp_of(msg) -> tuple[int, int]:
    return msg.header.stamp.sec, msg.header.stamp.nanosec


class RosProbe:
    """A test-side node: publishes images to the tracker and records everything it answers."""

    def __init__(self, name: str, namespace: str = ""):
        self.node = Node(name, namespace=namespace)   # its relative names resolve in the namespace
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(self.node)
        self.image_pub = self.node.create_publisher(Image, "image", RELIABLE)
        self.compressed_pub = self.node.create_publisher(CompressedImage, "image/compressed", RELIABLE)
        self.objects: list[TrackedObject] = []
        self.arrays: list[TrackedObjectArray] = []
        self.overlays: list[Image] = []
        self.node.create_subscription(TrackedObject, "tracked_object", self.objects.append, RELIABLE)
        self.node.create_subscription(TrackedObjectArray, "tracked_objects", self.arrays.append, RELIABLE)
        self.node.create_subscription(Image, "overlay", self.overlays.append, RELIABLE)
        self.init_client = self.node.create_client(InitTarget, "init_target")
        self.stop_client = self.node.create_client(StopTarget, "stop_target")
        self._parameter_clients = {}
        self._settled_clients: set[int] = set()

    def destroy(self) -> None:
        self.executor.remove_node(self.node)
        self.node.destroy_node()

    # --- waiting -------------------------------------------------------------------------------------------
    def spin_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            self.executor.spin_once(timeout_sec=0.02)
        return True

    def spin_for(self, seconds: float) -> None:
        self.spin_until(lambda: False, seconds)

    def wait_for_node(self, node: NodeProcess, timeout: float = 60.0, publisher=None) -> None:
        """Until the node's services exist (model loaded) and it subscribes to our image publisher."""
        publisher = publisher or self.image_pub

        def ready_or_exited() -> bool:
            return not node.alive() or (self.init_client.service_is_ready()
                                        and publisher.get_subscription_count() > 0)

        ready = self.spin_until(ready_or_exited, timeout)
        assert node.alive(), f"tracker node exited with {node.process.returncode}:\n{node.log()[-3000:]}"
        assert ready, f"tracker node not ready after {timeout}s:\n{node.log()[-3000:]}"

    # --- images --------------------------------------------------------------------------------------------
    def array_for(self, stamp: tuple[int, int]) -> TrackedObjectArray | None:
        return next((a for a in self.arrays if stamp_of(a) == stamp), None)

    def send(self, msg, timeout: float = 30.0, publisher=None) -> TrackedObjectArray:
        """Publish one image and wait for the node's TrackedObjectArray with its stamp (lockstep, nothing dropped)."""
        (publisher or self.image_pub).publish(msg)
        stamp = stamp_of(msg)
        assert self.spin_until(lambda: self.array_for(stamp) is not None, timeout), \
            f"no tracked_objects for the image stamped {stamp} within {timeout}s"
        return self.array_for(stamp)

    def handshake(self, msg, timeout: float = 30.0, publisher=None) -> TrackedObjectArray:
        """Publish ``msg`` until the node answers it: the first frame may go out before both sides matched."""
        stamp = stamp_of(msg)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (publisher or self.image_pub).publish(msg)
            if self.spin_until(lambda: self.array_for(stamp) is not None, 1.0):
                # Answers to repeated copies of the handshake frame may still be on their way: let them land.
                self.spin_for(0.3)
                return self.array_for(stamp)
        raise AssertionError(f"the tracker node never answered the image stamped {stamp}")

    # --- services ------------------------------------------------------------------------------------------
    def settle(self, client, timeout: float = 15.0) -> None:
        """
        Wait for ``client``'s service, then give a new client a moment before its first request.

        wait_for_service sees the server's request reader; the server's response writer still has to match this
        client's response reader, and nothing shows that to a client. Fast DDS drops a response sent before that
        ("failed to send response (timeout)", seen once under load on the very first call of a new client).
        """
        assert client.wait_for_service(timeout_sec=timeout), f"service {client.srv_name} not available"
        if id(client) not in self._settled_clients:
            self.spin_for(1.0)
            self._settled_clients.add(id(client))

    def call(self, client, request, timeout: float = 15.0):
        self.settle(client, timeout)
        future = client.call_async(request)
        assert self.spin_until(future.done, timeout), f"no answer from {client.srv_name} within {timeout}s"
        return future.result()

    def init_target(self, x: float, y: float, width: float, height: float, target_id: int = 0,
                    stamp: tuple[int, int] = (0, 0)) -> InitTarget.Response:
        request = InitTarget.Request(x=float(x), y=float(y), width=float(width), height=float(height),
                                     target_id=target_id)
        request.stamp.sec, request.stamp.nanosec = stamp
        return self.call(self.init_client, request)

    def stop_target(self, target_id: int = StopTarget.Request.ALL_TARGETS) -> StopTarget.Response:
        return self.call(self.stop_client, StopTarget.Request(target_id=target_id))

    # --- parameters (the node's standard parameter services) ----------------------------------------------
    def _parameter_client(self, service_type, suffix: str):
        if suffix not in self._parameter_clients:
            self._parameter_clients[suffix] = self.node.create_client(service_type, f"/{NODE_NAME}/{suffix}")
        return self._parameter_clients[suffix]

    def set_parameter(self, name: str, value):
        request = SetParameters.Request(parameters=[Parameter(name, value=value).to_parameter_msg()])
        return self.call(self._parameter_client(SetParameters, "set_parameters"), request).results[0]

    def get_parameters(self, names: list[str]) -> dict:
        response = self.call(self._parameter_client(GetParameters, "get_parameters"),
                             GetParameters.Request(names=names))
        return {name: parameter_value_to_python(value) for name, value in zip(names, response.values)}

    def list_parameters(self) -> list[str]:
        response = self.call(self._parameter_client(ListParameters, "list_parameters"), ListParameters.Request())
        return list(response.result.names)


class Diagnostics:
    """The image-input reports of the tracker node on /diagnostics, summed."""

    def __init__(self, probe: RosProbe, timeout: float = 30.0):
        self.statuses = []
        name = f"/{NODE_NAME}: image input"
        probe.node.create_subscription(DiagnosticArray, "/diagnostics",
                                       lambda m: self.statuses.extend(s for s in m.status if s.name == name), RELIABLE)
        # A report published before the node's writer matched this new subscription is lost to it (volatile): what
        # a test does next could be counted in that report. The first report received shows the match.
        assert probe.spin_until(lambda: self.statuses, timeout), f"no {name} report on /diagnostics"

    def total(self, key: str) -> int:
        return sum(int(next(v.value for v in s.values if v.key == key)) for s in self.statuses)


def skip_repeatedly(probe: RosProbe, diagnostics: Diagnostics, msg, times: int, timeout: float = 30.0,
                    publisher=None) -> None:
    """
    Publish ``msg`` until the node has reported ``times`` more skipped images.

    The node processes one image at a time and keeps only the newest, so an image published at once after another
    may replace it unseen.
    """
    target = diagnostics.total("images skipped") + times

    def published_and_counted():
        (publisher or probe.image_pub).publish(msg)
        return probe.spin_until(lambda: diagnostics.total("images skipped") >= target, 0.1)

    assert probe.spin_until(published_and_counted, timeout), f"the node did not skip {msg} {times} times"
