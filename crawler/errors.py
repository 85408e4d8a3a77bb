"""Exceptions of the crawler; their messages are written for archivists."""


class CrawlError(Exception):
    """A harvest cannot be run as asked."""
