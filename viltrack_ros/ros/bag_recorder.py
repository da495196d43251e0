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
Records topics into a rosbag2 bag (mcap or sqlite3) where ``ros2 bag`` is not installed (the pip wheels).

  ros2 run viltrack_ros bag_recorder --ros-args -p output:=tracks -p topics:="[/tracked_objects]"

Each topic is subscribed to as soon as it has a publisher (its type is taken from the graph) and its messages are
written as the CDR bytes that arrived, stamped with the receive time, as ``ros2 bag record`` does. The bag is closed
(metadata.yaml written) when the node stops (Ctrl-C).
"""
from __future__ import annotations

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

from viltrack_ros.ros.bag_io import STORAGES, BagWriter, message_class
from viltrack_ros.ros.node_main import run_node


class BagRecorder(Node):
    """Writes every message of ``topics`` into the bag ``output``; ``close()`` finishes the bag."""

    def __init__(self, **node_options):
        super().__init__("bag_recorder", **node_options)
        self.declare_parameter("output", "", ParameterDescriptor(
            description="Bag folder to create (must not exist).", read_only=True))
        self.declare_parameter("storage", "mcap", ParameterDescriptor(
            description="Storage format: " + " or ".join(STORAGES) + " (.db3).", read_only=True))
        self.declare_parameter("topics", ["tracked_objects"], ParameterDescriptor(
            description="Topics to record (relative names resolve in the node's namespace).", read_only=True))
        output = self.get_parameter("output").value
        if not output:
            raise ValueError("parameter output is empty: give the bag folder to create")
        # The names are resolved before the bag is created: a bad name must not leave a half-made bag that blocks
        # the next run ("exists already").
        pending = []
        for topic in self.get_parameter("topics").value:
            try:
                pending.append(self.resolve_topic_name(topic))
            except Exception as error:   # noqa: BLE001 - rclpy raises its RCLError for a name it cannot resolve
                raise ValueError(f"topics: {topic!r} is not a valid topic name ({error})") from None
        self.writer = BagWriter(output, self.get_parameter("storage").value)
        self._pending = pending
        self._subscriptions_by_topic = {}
        self.get_logger().info(f"recording {', '.join(self._pending)} into {output} (each once it is published)")
        self._subscribe_to_published_topics()
        self._discovery_timer = self.create_timer(0.2, self._subscribe_to_published_topics)

    def _subscribe_to_published_topics(self) -> None:
        types = dict(self.get_topic_names_and_types())
        for topic in [t for t in self._pending if t in types]:
            type_name = types[topic][0]
            publishers = self.get_publishers_info_by_topic(topic)
            # A best-effort publisher (a camera) does not serve a reliable subscription: match the weakest.
            reliable = all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE for p in publishers)
            qos = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=100,
                             reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT)
            self.writer.add_topic(topic, type_name)
            self._subscriptions_by_topic[topic] = self.create_subscription(
                message_class(type_name), topic, lambda data, topic=topic, type_name=type_name: self._write(
                    topic, type_name, data), qos, raw=True)
            self._pending.remove(topic)
            self.get_logger().info(f"recording {topic} ({type_name})")

    def recording_all_topics(self) -> bool:
        """Every topic subscribed to and matched with its publishers (nothing they publish from now on is lost)."""
        return not self._pending and all(subscription.get_publisher_count() > 0
                                         for subscription in self._subscriptions_by_topic.values())

    def _write(self, topic: str, type_name: str, data: bytes) -> None:
        self.writer.write_serialized(topic, type_name, data, self.get_clock().now().nanoseconds)

    def close(self) -> None:
        self.writer.close()
        counts = ", ".join(f"{topic}: {count}" for topic, count in self.writer.counts.items())
        self.get_logger().info(f"closed {self.writer.path} ({counts or 'nothing recorded'})")


def main(args=None) -> int:
    # OSError: an output that cannot be written (FileExistsError is one: a bag is never overwritten).
    return run_node(BagRecorder, "bag_recorder", (ValueError, OSError, ImportError), args=args,
                    on_exit=BagRecorder.close)


if __name__ == "__main__":
    raise SystemExit(main())
