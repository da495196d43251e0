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
Start the viltrack_ros tracker node on one camera.

  ros2 launch viltrack_ros tracker.launch.py image_topic:=/camera/image_raw
  ros2 service call /init_target viltrack_ros/srv/InitTarget "{x: 100, y: 80, width: 60, height: 120}"

Every argument is described: `ros2 launch viltrack_ros tracker.launch.py --show-args`.
"""
from pathlib import Path

from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, EmitEvent, OpaqueFunction, RegisterEventHandler
from launch.events import matches_action
from launch.substitutions import PathJoinSubstitution
from launch_ros.actions import LifecycleNode, Node
from launch_ros.event_handlers import OnStateTransition
from launch_ros.events.lifecycle import ChangeState
from launch_ros.substitutions import FindPackageShare
from lifecycle_msgs.msg import Transition
from rclpy.exceptions import InvalidTopicNameException
from rclpy.expand_topic_name import expand_topic_name
from rclpy.validate_full_topic_name import validate_full_topic_name

TRUE_FALSE = ["true", "false"]
# The node's own name (viltrack_ros.ros.tracking_adapter.NODE_NAME, which a test compares): a LifecycleNode action
# must be given one, and the launch file does not import the package (that would load PyTorch into `ros2 launch`).
NODE_NAME = "viltrack_tracker"
# Launch arguments that set a node parameter only when given: left empty, the params file's value (or the node's
# default) stands. A default of their own would silently replace what a user wrote in their params file.
FROM_PARAMS_FILE = ""
# The node's backends (viltrack_ros.tracking.backends.BACKENDS, which a test compares), for the same reason.
BACKENDS = ["auto", "torch", "torch-bf16", "torch-compile", "torch-compile-bf16", "onnxruntime"]
PARAMETER_ARGUMENTS = {   # name: how the launch argument's text becomes the parameter's value
    "weights": str, "device": str, "backend": str, "threads": int, "image_transport": str,
    "use_sim_time": lambda text: text == "true", "publish_overlay": lambda text: text == "true",
}


def generate_launch_description():
    share = FindPackageShare("viltrack_ros")
    arguments = [
        DeclareLaunchArgument(
            "image_topic", default_value="image",
            description="Camera topic (sensor_msgs/Image) to track on, e.g. /camera/image_raw. With "
                        "image_transport:=compressed the node reads <image_topic>/compressed instead."),
        DeclareLaunchArgument(
            "image_transport", default_value=FROM_PARAMS_FILE, choices=[FROM_PARAMS_FILE, "raw", "compressed"],
            description="raw: sensor_msgs/Image; compressed: sensor_msgs/CompressedImage (JPEG/PNG). Empty: the "
                        "params file's (raw in the shipped one)."),
        DeclareLaunchArgument(
            "weights", default_value=FROM_PARAMS_FILE,
            description="Checkpoint file (.pt) to load. Empty: the params file's (the weights shipped with the "
                        "package in the shipped one)."),
        DeclareLaunchArgument(
            "device", default_value=FROM_PARAMS_FILE, choices=[FROM_PARAMS_FILE, "auto", "cpu", "cuda"],
            description="Where the network runs: auto picks cuda when a GPU is available. Empty: the params "
                        "file's (auto in the shipped one)."),
        DeclareLaunchArgument(
            "backend", default_value=FROM_PARAMS_FILE, choices=[FROM_PARAMS_FILE, *BACKENDS],
            description="Who runs the network (auto: onnxruntime on a CPU; config/tracker.yaml says what each "
                        "does). Empty: the params file's (auto in the shipped one)."),
        DeclareLaunchArgument(
            "threads", default_value=FROM_PARAMS_FILE,
            description="CPU threads of the network; 0 keeps PyTorch's default (one per core); 1 where other "
                        "processes share the cores. Empty: the params file's (0 in the shipped one)."),
        DeclareLaunchArgument(
            "params_file", default_value=PathJoinSubstitution([share, "config", "tracker.yaml"]),
            description="YAML parameters file (tracker settings, QoS, ...); the launch arguments that are given "
                        "override it, the ones left empty do not."),
        DeclareLaunchArgument(
            "namespace", default_value="",
            description="Namespace of the node: its topics and services become /<namespace>/init_target, ..."),
        DeclareLaunchArgument(
            "use_sim_time", default_value=FROM_PARAMS_FILE, choices=[FROM_PARAMS_FILE, *TRUE_FALSE],
            description="Use /clock, e.g. from `ros2 bag play --clock` where rosbag2 is installed (the package's "
                        "replay_publisher publishes no /clock). Empty: the params file's (false "
                        "unless it says otherwise)."),
        DeclareLaunchArgument(
            "publish_overlay", default_value=FROM_PARAMS_FILE, choices=[FROM_PARAMS_FILE, *TRUE_FALSE],
            description="Publish the annotated image (boxes, ids, confidence, status) on overlay. Empty: the "
                        "params file's (true in the shipped one)."),
        DeclareLaunchArgument(
            "log_level", default_value="info", choices=["debug", "info", "warn", "error", "fatal"],
            description="Logging level of the node."),
        DeclareLaunchArgument(
            "managed", default_value="false", choices=TRUE_FALSE,
            description="Start the managed (lifecycle) node: it waits unconfigured for `ros2 lifecycle set "
                        "<node> configure` (loads the model) and `activate` (subscribes), or for a lifecycle manager."),
        DeclareLaunchArgument(
            "autostart", default_value="false", choices=TRUE_FALSE,
            description="With managed:=true: configure and activate the node at once (as a lifecycle manager "
                        "would); it stays managed (deactivate, cleanup, ...). A failed configure leaves it "
                        "unconfigured, saying why."),
        DeclareLaunchArgument(
            "rviz", default_value="false", choices=TRUE_FALSE,
            description="Also start rviz2 with the shipped configuration (overlay image display); needs rviz2 "
                        "installed (ros-<distro>-rviz2)."),
    ]

    return LaunchDescription(arguments + [OpaqueFunction(function=_nodes)])


def parameter_overrides(launch_configurations: dict) -> dict:
    """Return the node parameters that the given (non-empty) launch arguments set, typed."""
    overrides = {}
    for name, convert in PARAMETER_ARGUMENTS.items():
        text = launch_configurations.get(name, FROM_PARAMS_FILE)
        if text == FROM_PARAMS_FILE:
            continue
        try:
            overrides[name] = convert(text)
        except ValueError:
            raise RuntimeError(f"launch argument {name}:={text!r} is not a valid value. Nothing was started.") \
                from None
    return overrides


def _nodes(context):
    """Return the tracker node, plain or managed (the same node, another executable), its autostart, and rviz."""
    config = context.launch_configurations
    overrides = parameter_overrides(config)
    # First: a missing rviz2 must stop the launch before it starts anything. Found only when rviz's own action runs,
    # it would fail the launch after the tracker had started, and leave that process running on its own.
    rviz = _rviz_if_asked(config, overrides.get("use_sim_time", False))
    if not Path(config["params_file"]).is_file():   # launch_ros would only warn, and start on the defaults
        raise RuntimeError(f"params_file:={config['params_file']} is not a file. Nothing was started.")
    _check_image_topic(config["image_topic"], config["namespace"])
    managed = config["managed"] == "true"
    if config["autostart"] == "true" and not managed:
        raise RuntimeError("autostart:=true needs managed:=true (the plain node is active from the start). "
                           "Nothing was started.")
    node_action = LifecycleNode if managed else Node
    tracker = node_action(
        package="viltrack_ros",
        executable="managed_tracker_node" if managed else "tracker_node",
        name=NODE_NAME,
        namespace=config["namespace"],
        output="screen",
        emulate_tty=True,
        # Later entries win: the launch arguments that were given override the params file.
        parameters=[config["params_file"], *([overrides] if overrides else [])],
        remappings=[("image", config["image_topic"]), ("image/compressed", config["image_topic"] + "/compressed")],
        arguments=["--ros-args", "--log-level", config["log_level"]],
    )
    return [tracker, *_autostart_if_asked(config, tracker), *rviz]


def _check_image_topic(topic: str, namespace: str) -> None:
    """
    Refuse an image topic that is no topic name (``/cam/``, ``bad name``, ``1cam``, ``cam//image``).

    Given to the node as a remapping, rcl would refuse it only in the started process, with a traceback and "Error:
    error not set", while the launch itself carried on.
    """
    try:
        validate_full_topic_name(expand_topic_name(topic, NODE_NAME, "/" + namespace.strip("/")))
    except (ValueError, InvalidTopicNameException) as error:
        reason = str(error).splitlines()[0].split(", at ")[0]
        raise RuntimeError(f"image_topic:={topic!r} is not a valid topic name ({reason}). Nothing was started.") \
            from None


def _autostart_if_asked(config: dict, tracker) -> list:
    """Configure the managed node once it is up, and activate it once configured (a failed configure stops there)."""
    if config["autostart"] != "true":
        return []

    def transition(transition_id: int) -> EmitEvent:
        return EmitEvent(event=ChangeState(lifecycle_node_matcher=matches_action(tracker), transition_id=transition_id))

    # Once, and only from configuring: a later deactivate (active -> inactive) or a manual configure after a cleanup
    # is the user's, and must not be answered by an activate.
    return [RegisterEventHandler(OnStateTransition(target_lifecycle_node=tracker, start_state="configuring",
                                                   goal_state="inactive", handle_once=True,
                                                   entities=[transition(Transition.TRANSITION_ACTIVATE)])),
            transition(Transition.TRANSITION_CONFIGURE)]


def _rviz_if_asked(config: dict, use_sim_time: bool) -> list:
    if config["rviz"] != "true":
        return []
    try:
        get_package_share_directory("rviz2")
    except PackageNotFoundError:
        raise RuntimeError("rviz:=true, but rviz2 is not installed (no package 'rviz2' on AMENT_PREFIX_PATH); "
                           "install it (apt install ros-$ROS_DISTRO-rviz2) or launch with rviz:=false. "
                           "Nothing was started.") from None
    shipped_config = str(Path(get_package_share_directory("viltrack_ros")) / "config" / "viltrack.rviz")
    return [Node(package="rviz2", executable="rviz2", namespace=config["namespace"],
                 arguments=["-d", shipped_config], parameters=[{"use_sim_time": use_sim_time}],
                 remappings=rviz_remappings(config["image_topic"]))]


def rviz_remappings(image_topic: str) -> list[tuple[str, str]]:
    """
    Point the shipped rviz configuration's topics at this launch's tracker.

    The configuration names absolute topics (an rviz file has no namespace of its own); rviz runs in the tracker's
    namespace, where a relative replacement resolves as the tracker's own names do, so `namespace:=front` shows
    /front/overlay and the camera display shows the topic the tracker reads.
    """
    return [("/overlay", "overlay"), ("/image", image_topic)]
