"""The package's version: the one place it is written (setup.cfg reads it)."""

__version__ = "0.2.0"
"""The version of this package (setup.cfg reads it from here)."""
