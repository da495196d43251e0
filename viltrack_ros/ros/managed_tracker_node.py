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
The tracker as a managed (lifecycle) node, for systems that bring their nodes up in order.

Its states and transitions:

  unconfigured --configure--> inactive   the settings are checked and the model is loaded; outputs and services exist
  inactive     --activate---> active     subscribes to the images and publishes
  active       --deactivate-> inactive   unsubscribes: nothing is published (targets and services stay)
  inactive     --cleanup----> unconfigured  interfaces removed, model freed

A wrong setting or weights file fails ``configure`` with the reason in the log; the node stays unconfigured and
answers, and the settings read at configure can be set right (``ros2 param set``) before configuring again.
``ros2 launch viltrack_ros tracker.launch.py managed:=true``, then ``ros2 lifecycle set /viltrack_tracker configure``
and ``... activate``. Run alone: ``ros2 run viltrack_ros managed_tracker_node``.
"""
from __future__ import annotations

from rclpy.exceptions import ParameterException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn

from viltrack_ros.ros.node_main import run_node
from viltrack_ros.ros.tracking_adapter import NODE_NAME, TrackingAdapter


class ManagedTrackerNode(TrackingAdapter, LifecycleNode):
    """The tracker node with the lifecycle of a managed node (see the module docstring)."""

    SETTABLE_WHILE_UNCONFIGURED = True

    def __init__(self, **node_options):
        super().__init__(NODE_NAME, **node_options)
        self._configured = False
        # Declared now, so `ros2 param` can read and set them before configure.
        try:
            self._declare_parameters()
        except BaseException:
            self._release_state_machine()   # the process ends next (node_main): let it close DDS
            raise
        self.get_logger().info(f"unconfigured: waiting for configure (ros2 lifecycle set "
                               f"{self.get_fully_qualified_name()} configure)")

    # Each transition says why it failed and returns FAILURE: rclpy swallows a transition's exception without a word.
    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        if not self._attempt("configure", self._configure):
            self._discard_partial_configuration()
            return TransitionCallbackReturn.FAILURE
        self._configured = True
        return super().on_configure(state)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        if not self._attempt("activate", self._activate):
            return TransitionCallbackReturn.FAILURE
        return super().on_activate(state)   # activates the lifecycle publishers

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        if not self._attempt("deactivate", self._deactivate):
            return TransitionCallbackReturn.FAILURE
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        if not self._attempt("clean up", self._release):
            return TransitionCallbackReturn.FAILURE
        return super().on_cleanup(state)

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        return super().on_shutdown(state)

    def _attempt(self, transition: str, step) -> bool:
        """Run a transition's ``step``; on any error log "cannot <transition>: <why>" and return False."""
        try:
            step()
        except Exception as error:   # noqa: BLE001 - any failure of a transition is reported, not swallowed
            self.get_logger().error(f"cannot {transition}: {_reason(error)}")
            return False
        return True

    def _discard_partial_configuration(self) -> None:
        """
        Undo what a failed configure created, so the node is unconfigured in fact and may be configured again.

        A tracker left behind would make every configure-time parameter refuse to change ("cleanup first") in a
        state from which there is no cleanup.
        """
        try:
            self._cleanup()
        except Exception as error:   # noqa: BLE001 - the failure being reported matters more
            self.get_logger().warning(f"after the failed configure, releasing its parts failed too: {_reason(error)}")
        self._tracker = None

    def _release(self) -> None:
        if self._configured:
            self._cleanup()
            self._configured = False

    def destroy_node(self) -> None:
        super().destroy_node()
        self._release_state_machine()

    def _release_state_machine(self) -> None:
        """
        Free the lifecycle's state machine now instead of leaving it to the garbage collector.

        rclpy's LifecycleNode does not free its state machine (services and publisher of the lifecycle) when
        destroyed, only when garbage-collected, which a process that ends with ``os._exit`` (node_main) never
        gets to; until it is freed rclpy's shutdown cannot close the DDS participant, and the participant's 64 MB
        shared-memory segment outlives the process in /dev/shm (measured: one per stop, see shm_segments).
        """
        self._state_machine.destroy_when_not_in_use()

    def _create_output_publisher(self, msg_type, topic, qos):
        # Lifecycle publishers: publish() does nothing while the node is inactive.
        return self.create_lifecycle_publisher(msg_type, topic, qos)

    def _destroy_output_publisher(self, publisher) -> None:
        self.destroy_lifecycle_publisher(publisher)


def _reason(error: Exception) -> str:
    """Give the message of an expected error (a wrong setting or file), with the kind for anything else."""
    return str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"


def main(args=None) -> int:
    # A parameter of the wrong type or out of its range is refused when declared, in the constructor.
    return run_node(ManagedTrackerNode, NODE_NAME, (ParameterException,), args=args)


if __name__ == "__main__":
    raise SystemExit(main())
