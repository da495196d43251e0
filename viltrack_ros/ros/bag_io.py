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
rosbag2 files (.mcap and .db3) without rosbag2: ``rosbags`` (pure Python) handles the container, rclpy the messages.

Messages cross as CDR bytes, the format rosbag2 stores: ``rclpy.serialization`` turns them into rclpy messages and
back, so what is read is exactly what a ROS publisher sends. A bag is a rosbag2 folder (``metadata.yaml`` beside its
storage file) or a bare ``.mcap`` / ``.db3`` file; ``BagWriter`` writes folders, as ``ros2 bag record`` does.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Iterator

from rclpy.serialization import deserialize_message, serialize_message

import viltrack_ros.ros.interfaces  # noqa: F401  (makes viltrack_ros.msg importable from a source checkout too)

IMAGE_TYPE = "sensor_msgs/msg/Image"
STORAGES = ("mcap", "sqlite3")
BAG_SUFFIXES = (".mcap", ".db3")


def _rosbags():
    try:
        import rosbags.rosbag2
        import rosbags.typesys
    except ImportError as error:   # pragma: no cover - scripts/setup.sh installs it
        raise ImportError("reading and writing bags needs the rosbags package: pip install rosbags") from error
    return rosbags


def is_bag(path: str | Path) -> bool:
    """Tell whether ``path`` is a rosbag2 folder (with metadata.yaml) or a .mcap/.db3 file."""
    path = Path(path)
    return (path / "metadata.yaml").is_file() if path.is_dir() else path.suffix in BAG_SUFFIXES


def message_class(type_name: str):
    """Return the rclpy class of ``pkg/msg/Name`` (or ``pkg/Name``)."""
    package, _, name = type_name.replace("/msg/", "/").partition("/")
    try:
        return getattr(importlib.import_module(f"{package}.msg"), name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"message type {type_name} is not importable here ({error})") from None


def type_name_of(message_or_class) -> str:
    """``pkg/msg/Name`` of an rclpy message or message class."""
    cls = message_or_class if isinstance(message_or_class, type) else type(message_or_class)
    return f"{cls.__module__.split('.')[0]}/msg/{cls.__name__}"


def bag_topics(path: str | Path) -> dict[str, str]:
    """Topic name -> message type of every topic in the bag."""
    rosbags = _rosbags()
    with rosbags.rosbag2.Reader(Path(path)) as reader:
        return {connection.topic: connection.msgtype for connection in reader.connections}


def bag_messages(path: str | Path, topics: list[str] | None = None) -> Iterator[tuple[str, int, object]]:
    """(topic, receive timestamp in ns, rclpy message) of every message on ``topics`` (all when None)."""
    with _rosbags().rosbag2.Reader(Path(path)) as reader:
        connections = [c for c in reader.connections if topics is None or c.topic in topics]
        classes = {c.id: message_class(c.msgtype) for c in connections}
        for connection, timestamp, raw in reader.messages(connections=connections):
            yield connection.topic, timestamp, deserialize_message(bytes(raw), classes[connection.id])


class BagImageSource:
    """
    The sensor_msgs/Image messages of one topic of a bag, in recorded order, with their recorded headers.

    ``topic`` may be omitted when the bag has exactly one image topic. Raises ``FileNotFoundError`` for a missing
    path and ``ValueError`` naming the bag's image topics when the topic is absent or ambiguous.
    """

    def __init__(self, path: str | Path, topic: str = "", max_frames: int = 0):
        self.path = Path(path)
        if not self.path.exists():
            raise FileNotFoundError(f"bag {self.path} not found")
        topics = bag_topics(self.path)
        images = sorted(name for name, msgtype in topics.items() if msgtype == IMAGE_TYPE)
        if not topic:
            if not images:
                held = ", ".join(f"{name} ({msgtype})" for name, msgtype in sorted(topics.items())) or "no topics"
                raise ValueError(f"{self.path} has no {IMAGE_TYPE} topic to replay (it holds {held})")
            if len(images) > 1:
                raise ValueError(f"{self.path} has {len(images)} {IMAGE_TYPE} topics ({', '.join(images)}): name the "
                                 f"one to replay (bag_topic)")
            topic = images[0]
        elif topics.get(topic) != IMAGE_TYPE:
            found = f"is {topics[topic]}" if topic in topics else "is not in it"
            raise ValueError(f"topic {topic} of {self.path} {found}; its {IMAGE_TYPE} topics: "
                             f"{', '.join(images) or 'none'}")
        self.topic = topic
        self.max_frames = max_frames
        with _rosbags().rosbag2.Reader(self.path) as reader:
            self._count = sum(c.msgcount for c in reader.connections if c.topic == topic)
            span_s = reader.duration * 1e-9
        # The recorded rate (from the bag's metadata, without reading the images): "the bag's own speed".
        self.fps = (self._count - 1) / span_s if self._count > 1 and span_s > 0 else 0.0

    def __len__(self) -> int:
        return min(self._count, self.max_frames) if self.max_frames else self._count

    def __iter__(self) -> Iterator:
        from sensor_msgs.msg import Image

        with _rosbags().rosbag2.Reader(self.path) as reader:
            connections = [c for c in reader.connections if c.topic == self.topic]
            for index, (_, _, raw) in enumerate(reader.messages(connections=connections)):
                if self.max_frames and index >= self.max_frames:
                    return
                yield deserialize_message(bytes(raw), Image)


class BagWriter:
    """
    Writes rclpy messages into a new rosbag2 folder (``storage``: mcap or sqlite3); use as a context manager.

    Message definitions come from rosbags' Kilted type store; types it lacks (this package's own) are read from the
    ``.msg`` files their package installs (found through the ament index), as ``ros2 bag record`` does.
    """

    def __init__(self, path: str | Path, storage: str = "mcap"):
        rosbags = _rosbags()
        if storage not in STORAGES:
            raise ValueError(f"storage must be one of {', '.join(STORAGES)}, got {storage!r}")
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f"{self.path} exists already; a bag is never overwritten")
        self._typestore = rosbags.typesys.get_typestore(rosbags.typesys.Stores.ROS2_KILTED)
        plugin = (rosbags.rosbag2.StoragePlugin.MCAP if storage == "mcap"
                  else rosbags.rosbag2.StoragePlugin.SQLITE3)
        self._writer = rosbags.rosbag2.Writer(self.path, version=9, storage_plugin=plugin)
        self._writer.open()
        self._connections: dict[str, object] = {}
        self.counts: dict[str, int] = {}

    def add_topic(self, topic: str, type_name: str) -> None:
        if topic in self._connections:
            return
        self._ensure_type(type_name)
        self._connections[topic] = self._writer.add_connection(topic, type_name, typestore=self._typestore)
        self.counts[topic] = 0

    def write(self, topic: str, message, timestamp_ns: int) -> None:
        """One message, serialised by rclpy, at ``timestamp_ns`` (the receive time, in rosbag2's convention)."""
        self.write_serialized(topic, type_name_of(message), serialize_message(message), timestamp_ns)

    def write_serialized(self, topic: str, type_name: str, data: bytes, timestamp_ns: int) -> None:
        self.add_topic(topic, type_name)
        self._writer.write(self._connections[topic], int(timestamp_ns), data)
        self.counts[topic] += 1

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> "BagWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _ensure_type(self, type_name: str) -> None:
        if type_name in self._typestore.fielddefs:
            return
        from ament_index_python.packages import PackageNotFoundError, get_package_share_directory
        from rosbags.typesys import get_types_from_msg

        package = type_name.split("/")[0]
        try:
            msg_folder = Path(get_package_share_directory(package)) / "msg"
        except PackageNotFoundError:
            raise ValueError(f"no definition of {type_name}: package {package} is not on AMENT_PREFIX_PATH") from None
        types = {}
        for definition in sorted(msg_folder.glob("*.msg")):
            types.update(get_types_from_msg(definition.read_text(), f"{package}/msg/{definition.stem}"))
        self._typestore.register(types)
        if type_name not in self._typestore.fielddefs:
            raise ValueError(f"no definition of {type_name} in {msg_folder}")
