"""Loggers of the library that reach the application's handlers whatever else the process imported.

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
