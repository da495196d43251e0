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
from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition, UnlessCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

TRUE_FALSE = ["true", "false"]


def generate_launch_description():
    share = FindPackageShare("viltrack_ros")
    arguments = [
        DeclareLaunchArgument(
            "image_topic", default_value="image",
            description="Camera topic (sensor_msgs/Image) to track on, e.g. /camera/image_raw. With "
                        "image_transport:=compressed the node reads <image_topic>/compressed instead."),
        DeclareLaunchArgument(
            "image_transport", default_value="raw", choices=["raw", "compressed"],
            description="raw: sensor_msgs/Image; compressed: sensor_msgs/CompressedImage (JPEG/PNG)."),
        DeclareLaunchArgument(
            "weights", default_value="",
            description="Checkpoint file (.pt) to load; empty: the weights shipped with the package."),
        DeclareLaunchArgument(
            "device", default_value="auto", choices=["auto", "cpu", "cuda"],
            description="Where the network runs: auto picks cuda when a GPU is available."),
        DeclareLaunchArgument(
            "params_file", default_value=PathJoinSubstitution([share, "config", "tracker.yaml"]),
            description="YAML parameters file (tracker settings, QoS, ...); the arguments here override it."),
        DeclareLaunchArgument(
            "namespace", default_value="",
            description="Namespace of the node: its topics and services become /<namespace>/init_target, ..."),
        DeclareLaunchArgument(
            "use_sim_time", default_value="false", choices=TRUE_FALSE,
            description="Use /clock (e.g. when replaying a rosbag with --clock)."),
        DeclareLaunchArgument(
            "publish_overlay", default_value="true", choices=TRUE_FALSE,
            description="Publish the annotated image (boxes, ids, confidence, status) on overlay."),
        DeclareLaunchArgument(
            "log_level", default_value="info", choices=["debug", "info", "warn", "error", "fatal"],
            description="Logging level of the node."),
        DeclareLaunchArgument(
            "managed", default_value="false", choices=TRUE_FALSE,
            description="Start the managed (lifecycle) node: it waits unconfigured for `ros2 lifecycle set "
                        "<node> configure` (loads the model) and `activate` (subscribes)."),
        DeclareLaunchArgument(
            "rviz", default_value="false", choices=TRUE_FALSE,
            description="Also start rviz2 with the shipped configuration (overlay image display); needs rviz2 "
                        "installed (ros-<distro>-rviz2)."),
    ]

    # The same node either way; only the executable differs.
    tracker_settings = dict(
        package="viltrack_ros",
        name="viltrack_tracker",
        namespace=LaunchConfiguration("namespace"),
        output="screen",
        emulate_tty=True,
        # Later entries win: the launch arguments override the params file.
        parameters=[
            LaunchConfiguration("params_file"),
            {
                "weights": LaunchConfiguration("weights"),
                "device": LaunchConfiguration("device"),
                "image_transport": LaunchConfiguration("image_transport"),
                "use_sim_time": ParameterValue(LaunchConfiguration("use_sim_time"), value_type=bool),
                "publish_overlay": ParameterValue(LaunchConfiguration("publish_overlay"), value_type=bool),
            },
        ],
        remappings=[
            ("image", LaunchConfiguration("image_topic")),
            ("image/compressed", [LaunchConfiguration("image_topic"), "/compressed"]),
        ],
        arguments=["--ros-args", "--log-level", LaunchConfiguration("log_level")],
    )
    tracker = Node(executable="tracker_node", condition=UnlessCondition(LaunchConfiguration("managed")),
                   **tracker_settings)
    managed_tracker = Node(executable="managed_tracker_node", condition=IfCondition(LaunchConfiguration("managed")),
                           **tracker_settings)

    rviz = Node(
        package="rviz2",
        executable="rviz2",
        namespace=LaunchConfiguration("namespace"),
        arguments=["-d", PathJoinSubstitution([share, "config", "viltrack.rviz"])],
        parameters=[{"use_sim_time": ParameterValue(LaunchConfiguration("use_sim_time"), value_type=bool)}],
        condition=IfCondition(LaunchConfiguration("rviz")),
    )
    # First: a missing rviz2 must stop the launch before it starts anything. Found only when rviz's own action runs,
    # it would fail the launch after the tracker had started, and leave that process running on its own.
    return LaunchDescription(arguments + [OpaqueFunction(function=_require_rviz_if_asked), tracker, managed_tracker,
                                          rviz])


def _require_rviz_if_asked(context):
    if context.launch_configurations["rviz"] != "true":
        return []
    try:
        get_package_share_directory("rviz2")
    except PackageNotFoundError:
        raise RuntimeError("rviz:=true, but rviz2 is not installed (no package 'rviz2' on AMENT_PREFIX_PATH); "
                           "install it (apt install ros-$ROS_DISTRO-rviz2) or launch with rviz:=false. "
                           "Nothing was started.") from None
    return []
