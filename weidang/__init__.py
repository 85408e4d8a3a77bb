"""weidang (微档): the face of the archive: command line, demo, and later the web UI."""

__version__ = "0.1.0"
