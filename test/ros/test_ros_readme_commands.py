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
The README's ROS commands, run as written through the real `ros2` command line.

Each command is checked against what it prints, so that the README cannot drift from what the package does.

Every `ros2` line of the README's bash blocks runs in order, block by block, through bash (as pasted into a
terminal) in a folder that holds `my_bag`, the bag the README replays (made here from a shared real sequence).
`ros2 launch`, `ros2 run` and `ros2 topic hz` keep running in the background (stopped with Ctrl-C at the end of their
block; the camera replays at the end of the test); every other command must finish and print what CHECKS says. A
README line without a check here, or a check without its README line, fails the test. The node loads the weights
shipped with the package, as it does for a user.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from .ros_test_support import REPO_ROOT, load_sequence, skip_module_unless_ros, skip_module_unless_ros_cli

skip_module_unless_ros()
skip_module_unless_ros_cli()   # before the imports below

import psutil  # noqa: E402  (installed with launch)

from viltrack_ros.ros.bag_io import BagWriter, bag_messages  # noqa: E402
from .ros_harness import frame_msg  # noqa: E402

README = REPO_ROOT / "README.md"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
BAG_FRAMES = 20
FRAME_ID = "camera_optical_frame"


def readme_ros_blocks() -> list[list[str]]:
    """Return the `ros2` lines of every ```bash block of the README that has any, block by block."""
    blocks = re.findall(r"^```bash\n(.*?)^```", README.read_text(), flags=re.MULTILINE | re.DOTALL)
    lines = [[line for line in block.splitlines() if line.startswith("ros2 ")] for block in blocks]
    return [block for block in lines if block]


# --- the commands' processes ----------------------------------------------------------------------------------
class Command:
    """One README line run by bash in its own process group (so Ctrl-C reaches what it starts, as in a terminal)."""

    def __init__(self, line: str, cwd: Path, log_path: Path):
        self.line = line
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(["bash", "-c", line], cwd=cwd, stdout=self._log,
                                        stderr=subprocess.STDOUT, env=dict(os.environ), start_new_session=True)

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return ANSI_ESCAPE.sub("", self.log_path.read_text())

    def wait_for(self, patterns: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(re.search(p, self.output()) for p in patterns):
            assert self.process.poll() is None, \
                f"`{self.line}` exited with {self.process.returncode}:\n{self.output()[-3000:]}"
            assert time.monotonic() < deadline, \
                f"`{self.line}` did not print {patterns} within {timeout:.0f} s:\n{self.output()[-3000:]}"
            time.sleep(0.2)

    def finish(self, timeout: float) -> str:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail(f"`{self.line}` did not finish within {timeout:.0f} s:\n{self.output()[-3000:]}")
        self._log.close()
        return self.output()

    def session_processes(self) -> list[psutil.Process]:
        """Every process still running in this command's session (what it started and left behind)."""
        left = []
        for process in psutil.process_iter():
            try:
                if os.getsid(process.pid) == self.process.pid and process.pid != self.process.pid:
                    left.append(process)
            except (ProcessLookupError, psutil.Error):
                pass
        return left

    def stop(self) -> None:
        """Ctrl-C to the process group, as a terminal sends it; then nothing of it may be left running."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
                pytest.fail(f"`{self.line}` ignored Ctrl-C for 20 s:\n{self.output()[-3000:]}")
        deadline = time.monotonic() + 10
        while self.session_processes() and time.monotonic() < deadline:
            time.sleep(0.2)
        left = self.session_processes()
        for process in left:
            process.kill()
        self._log.close()
        assert not left, f"`{self.line}` left {[' '.join(p.cmdline()) for p in left]} running after Ctrl-C"


def ros2(*arguments: str, timeout: float = 60.0) -> str:
    """Run a `ros2` command of the test itself (not from the README) and return what it printed."""
    result = subprocess.run(["ros2", *arguments], capture_output=True, text=True, timeout=timeout)
    return result.stdout + result.stderr


# --- what each README line must print ---------------------------------------------------------------------
@dataclass
class Check:
    """
    What a README line must print, and how it runs.

    ``background``: keeps running, ready once it printed ``prints``; else it must exit 0 having printed them.
    ``camera``: runs until the end of the test; ``stop_when_ready``: Ctrl-C once it printed (a monitor).
    ``then``: a check of the ROS graph after it (gets the probe).
    """

    prints: list[str]
    background: bool = False
    camera: bool = False
    stop_when_ready: bool = False
    services_first: list[str] = field(default_factory=list)   # wait until these are listed (`ros2 service list`)
    nodes_first: list[str] = field(default_factory=list)      # ... and these (`ros2 node list`)
    then: Callable | None = None


def interface_lines() -> list[str]:
    """Return the declarations of msg/TrackedObject.msg, which `ros2 interface show` must print."""
    lines = [line.split("#")[0].strip() for line in (REPO_ROOT / "msg" / "TrackedObject.msg").read_text().splitlines()]
    return [re.escape(line) for line in lines if line]


def arrays_flow(probe) -> None:
    probe.arrays.clear()
    assert probe.spin_until(lambda: len(probe.arrays) >= 2, 30), "active, but no tracked_objects"


def node_answers_on(topic: str) -> Callable:
    """
    Return a check, for after a camera starts, that waits until the node has processed an image from it.

    A person would see the node react before calling init_target; a call before the first image is refused.
    """
    def check(probe) -> None:
        from viltrack_ros.ros.interfaces import TrackedObjectArray

        answers = []
        subscription = probe.node.create_subscription(TrackedObjectArray, topic, answers.append, 10)
        try:
            assert probe.spin_until(lambda: answers, 60), f"no {topic} after the camera started"
        finally:
            probe.node.destroy_subscription(subscription)
    return check


def nothing_published_but_diagnostics(probe) -> None:
    from diagnostic_msgs.msg import DiagnosticArray

    reports = []
    subscription = probe.node.create_subscription(DiagnosticArray, "/diagnostics", reports.append, 10)
    try:
        probe.spin_for(1.0)   # what was on its way before the transition
        probe.arrays.clear()
        reports.clear()
        probe.spin_for(2.5)
        assert probe.arrays == [], f"inactive, but {len(probe.arrays)} tracked_objects were published"
        messages = [status.message for report in reports for status in report.status]
        assert any(message.startswith("inactive") for message in messages), f"/diagnostics said {messages}"
    finally:
        probe.node.destroy_subscription(subscription)


def init_target_served(probe, served: bool) -> None:
    def matches() -> bool:
        return probe.init_client.service_is_ready() == served
    assert probe.spin_until(matches, 15), f"/init_target {'never appeared' if served else 'is still served'}"


def recorded_bag_holds_the_tracks(cwd: Path) -> None:
    messages = list(bag_messages(cwd / "tracks"))
    arrays = [message for topic, _, message in messages if topic == "/tracked_objects"]
    assert arrays, "the bag recorder wrote no /tracked_objects"
    assert all(array.header.frame_id == FRAME_ID for array in arrays)
    assert any(sorted(o.target_id for o in array.objects) == [0, 1] for array in arrays), \
        "no recorded array holds both targets"
    assert any(topic == "/diagnostics" for topic, _, _ in messages), "the bag recorder wrote no /diagnostics"


INIT_SERVICE_READY = ["/init_target", "/viltrack_tracker/set_parameters"]
CHECKS: dict[str, Check] = {
    # --- track, look, tune, record --------------------------------------------------------------------------
    "ros2 launch viltrack_ros tracker.launch.py image_topic:=/camera/image_raw":
        Check([r"ready: weights .*viltrack_default\.pt", r"listening on /camera/image_raw"], background=True,
              services_first=INIT_SERVICE_READY),
    "ros2 run viltrack_ros replay_publisher --ros-args -p source:=my_bag -p loop:=true -r image:=/camera/image_raw":
        Check([r"streaming my_bag \(/camera/image_raw\) at 10 fps on /camera/image_raw"], background=True,
              camera=True, then=node_answers_on("/tracked_objects")),
    'ros2 run viltrack_ros bag_recorder --ros-args -p output:=tracks -p topics:="[/tracked_objects, /diagnostics]"':
        Check([r"recording /tracked_objects \(viltrack_ros/msg/TrackedObjectArray\)",
               r"recording /diagnostics \(diagnostic_msgs/msg/DiagnosticArray\)"], background=True),
    'ros2 service call /init_target viltrack_ros/srv/InitTarget "{x: 205.0, y: 151.0, width: 17.0, height: 50.0}"':
        Check([r"success=True", r"tracking target 0 from box \(205, 151, 17, 50\) on the 360x240 image"]),
    'ros2 service call /init_target viltrack_ros/srv/InitTarget '
    '"{x: 40.0, y: 40.0, width: 30.0, height: 30.0, target_id: -1}"':
        Check([r"success=True", r"target_id=1\b"]),
    "ros2 topic echo --once /tracked_object":
        Check([rf"frame_id: {FRAME_ID}", r"target_id: [01]\n", r"confidence: [0-9.e-]+\n", r"status: [012]\n"]),
    "ros2 topic hz /tracked_objects":
        Check([r"average rate: \d+\.\d+"], background=True, stop_when_ready=True),
    "ros2 topic echo --once /diagnostics":
        Check([r"name: '/viltrack_tracker: image input'", r"key: processing rate \(Hz\)",
               r"name: '/viltrack_tracker: target 0'", r"name: '/viltrack_tracker: target 1'"]),
    "ros2 param set /viltrack_tracker tracker.window_influence 0.3":
        Check([r"Set parameter successful"]),
    "ros2 param get /viltrack_tracker tracker.window_influence":
        Check([r"Double value is: 0\.3\b"]),
    "ros2 param set /viltrack_tracker tracker.lost_threshold 0.5   # refused: must not exceed recover_threshold":
        Check([r"Setting parameter failed: .*recover_threshold \(0\.4\) must be >= lost_threshold \(0\.5\)"]),
    "ros2 param describe /viltrack_tracker tracker.window_influence":
        Check([r"Parameter name: tracker\.window_influence", r"Type: double", r"Description: \w+",
               r"Min value: 0\.0", r"Max value: 0\.95"]),
    'ros2 service call /stop_target viltrack_ros/srv/StopTarget "{target_id: -1}"':
        Check([r"success=True", r"stopped targets \[0, 1\]"]),
    "ros2 interface show viltrack_ros/msg/TrackedObject":
        Check(interface_lines()),
    # --- one node per camera ----------------------------------------------------------------------------------
    "ros2 launch viltrack_ros tracker.launch.py namespace:=front image_topic:=/front/image_raw":
        Check([r"listening on /front/image_raw"], background=True, services_first=["/front/init_target"]),
    "ros2 run viltrack_ros replay_publisher --ros-args -p source:=my_bag -p loop:=true -r image:=/front/image_raw":
        Check([r"streaming my_bag \(/camera/image_raw\) at 10 fps on /front/image_raw"], background=True,
              camera=True, then=node_answers_on("/front/tracked_objects")),
    'ros2 service call /front/init_target viltrack_ros/srv/InitTarget '
    '"{x: 205.0, y: 151.0, width: 17.0, height: 50.0}"':
        Check([r"success=True", r"tracking target 0"]),
    "ros2 topic echo --once /front/tracked_object":
        Check([rf"frame_id: {FRAME_ID}", r"target_id: 0\n"]),
    # --- managed (lifecycle) node -----------------------------------------------------------------------------
    "ros2 launch viltrack_ros tracker.launch.py managed:=true image_topic:=/camera/image_raw":
        Check([r"unconfigured: waiting for configure"], background=True,
              services_first=["/viltrack_tracker/change_state"], nodes_first=["/viltrack_tracker"],
              then=lambda probe: init_target_served(probe, False)),
    "ros2 lifecycle set /viltrack_tracker configure    # checks the settings, loads the model: inactive":
        Check([r"Transitioning successful"], then=lambda probe: init_target_served(probe, True)),
    "ros2 lifecycle set /viltrack_tracker activate     # subscribes to the images: tracks and publishes":
        Check([r"Transitioning successful"], then=arrays_flow),
    "ros2 lifecycle get /viltrack_tracker":
        Check([r"active \[3\]"]),
    "ros2 lifecycle set /viltrack_tracker deactivate   # unsubscribes: no tracks, overlay or detections; "
    "/diagnostics says 'inactive'":
        Check([r"Transitioning successful"], then=nothing_published_but_diagnostics),
    "ros2 lifecycle set /viltrack_tracker cleanup      # removes its topics and services, frees the model":
        Check([r"Transitioning successful"], then=lambda probe: init_target_served(probe, False)),
}
# After the first block: what bag_recorder wrote once stopped.
AFTER_BLOCK = {0: recorded_bag_holds_the_tracks}


@pytest.fixture(scope="module")
def readme_folder(tmp_path_factory) -> Path:
    """Give the folder the commands run in, with the README's `my_bag`: a shared real sequence as a rosbag2 bag."""
    folder = tmp_path_factory.mktemp("readme")
    frames, _ = load_sequence("Crossing", BAG_FRAMES)
    with BagWriter(folder / "my_bag", storage="mcap") as bag:
        for index, frame in enumerate(frames):   # 10 frames per second
            stamp_ns = 1_000_000_000_000 + index * 100_000_000
            bag.write("/camera/image_raw", frame_msg(frame, sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9,
                                                     frame_id=FRAME_ID), stamp_ns)
    return folder


@pytest.fixture(scope="module")
def ros2_daemon():
    """`ros2` verbs share a daemon that caches the graph (started for this run's domain, stopped afterwards)."""
    ros2("daemon", "stop")
    ros2("daemon", "start")
    yield
    ros2("daemon", "stop")


def wait_until_listed(names: list[str], kind: str = "service", timeout: float = 60.0) -> None:
    """
    Wait until ``ros2 <kind> list`` shows all ``names``.

    The names are services, or nodes: ``ros2 lifecycle`` looks a node up by name, and the daemon can list a node's
    services before the node itself.
    """
    deadline = time.monotonic() + timeout
    while True:
        listed = ros2(kind, "list")
        if all(name in listed.split() for name in names):
            return
        assert time.monotonic() < deadline, f"{names} not all in `ros2 {kind} list` after {timeout:.0f} s:\n" \
                                            f"{listed}"
        time.sleep(0.5)


def test_every_readme_ros_line_has_a_check():
    lines = [line for block in readme_ros_blocks() for line in block]
    assert len(lines) == len(set(lines)), "a README line appears twice: the checks could not tell them apart"
    assert set(lines) == set(CHECKS), (f"README lines without a check: {sorted(set(lines) - set(CHECKS))}; "
                                       f"checks without a README line: {sorted(set(CHECKS) - set(lines))}")


# Commands that change nothing in the node, so running one again cannot change what the next ones see.
READ_ONLY_COMMANDS = ("ros2 topic echo", "ros2 topic list", "ros2 param get", "ros2 param describe",
                      "ros2 interface show", "ros2 node list", "ros2 service list", "ros2 lifecycle get")


def test_readme_ros_commands_print_what_the_readme_says(readme_folder, ros2_daemon, probe, capsys):
    cameras: list[Command] = []
    transcript = []
    try:
        for block_index, block in enumerate(readme_ros_blocks()):
            running: list[Command] = []
            try:
                for number, line in enumerate(block):
                    check = CHECKS[line]
                    command = Command(line, readme_folder, readme_folder / f"block{block_index}_{number}.log")
                    if check.background:
                        (cameras if check.camera else running).append(command)
                        command.wait_for(check.prints, timeout=120)
                        if check.services_first:
                            wait_until_listed(check.services_first)
                        if check.nodes_first:
                            wait_until_listed(check.nodes_first, kind="node")
                        output = command.output()
                        if check.stop_when_ready:
                            command.stop()
                    else:
                        output = command.finish(timeout=90)
                        if command.process.returncode < 0 and line.startswith(READ_ONLY_COMMANDS):
                            # The upstream CLI process itself was killed by a signal (seen once: SIGSEGV in
                            # `ros2 topic echo --once` on a loaded machine, before it printed anything; rclpy has
                            # known shutdown crashes). A command that only reads is run once more, and said so.
                            transcript.append(f"$ {line}\n(killed by signal {-command.process.returncode}; "
                                              "run once more)")
                            command = Command(line, readme_folder, readme_folder / f"block{block_index}_{number}b.log")
                            output = command.finish(timeout=90)
                        assert command.process.returncode == 0, f"`{line}` exited with " \
                                                                f"{command.process.returncode}:\n{output}"
                        missing = [pattern for pattern in check.prints if not re.search(pattern, output)]
                        assert not missing, f"`{line}` printed:\n{output}\nwithout {missing}"
                    transcript.append(f"$ {line}\n{output.strip()[:1500]}")
                    if check.then is not None:
                        check.then(probe)
            finally:
                for command in reversed(running):   # hz, recorder, then the node: Ctrl-C, as a user would
                    command.stop()
            if block_index in AFTER_BLOCK:
                AFTER_BLOCK[block_index](readme_folder)
    finally:
        for camera in cameras:
            camera.stop()
        # The commands with what they printed: shown with -s, and kept beside the logs.
        (readme_folder / "transcript.txt").write_text("\n\n".join(transcript) + "\n")
        print(f"README commands transcript: {readme_folder / 'transcript.txt'}")


def test_rviz_without_rviz2_fails_before_starting_anything(readme_folder):
    if "rviz2" in ros2("pkg", "list").split():
        pytest.skip("rviz2 is installed here: rviz:=true would start it")
    command = Command("ros2 launch viltrack_ros tracker.launch.py image_topic:=/camera/image_raw rviz:=true",
                      readme_folder, readme_folder / "rviz.log")
    output = command.finish(timeout=60)
    assert command.process.returncode != 0, output
    assert "rviz2 is not installed" in output and "Nothing was started" in output, output
    assert "process started" not in output, output
    time.sleep(1.0)   # an orphan would still be starting up now
    left = command.session_processes()
    assert not left, f"left running: {[' '.join(p.cmdline()) for p in left]}"
