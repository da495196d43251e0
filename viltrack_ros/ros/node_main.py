"""The one ``main()`` of every node of this package: start rclpy, build the node, spin, and always release."""
from __future__ import annotations

from typing import Callable

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node


def run_node(make_node: Callable[[], Node], name: str, startup_errors: tuple[type[BaseException], ...] = (),
             args=None, spin: Callable[[Node], None] = rclpy.spin,
             on_exit: Callable[[Node], None] | None = None) -> int:
    """Run ``make_node()`` until Ctrl-C or an external shutdown; returns the exit code.

    An error of ``startup_errors`` while building the node (wrong weights, settings, files) is said in one fatal
    line instead of a traceback, and gives exit code 1. ``on_exit`` runs before the node is destroyed (closing a
    bag, say)."""
    rclpy.init(args=args)
    try:
        node = make_node()
    except startup_errors as error:
        rclpy.logging.get_logger(name).fatal(f"cannot start: {error}")
        rclpy.try_shutdown()
        return 1
    try:
        spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if on_exit is not None:
            on_exit(node)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0
