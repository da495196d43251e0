"""ROS 2 adapter around the tracker: the only part of viltrack_ros that imports rclpy."""
