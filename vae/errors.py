"""The library's errors: each message names the bad value and the fix.

They live apart from the modules that raise them, so that a module needing only an exception type
imports this one and never the module that imports it back.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A configuration value is out of range; the message names it and the fix."""


class DataError(RuntimeError):
    """A dataset cannot be found or read; the message says how to get it."""


class CheckpointError(RuntimeError):
    """A checkpoint folder cannot be loaded or saved; the message says why and what to do."""


class SearchError(ValueError):
    """A search text names no image it could (an index outside the set, nothing typed); the message
    names the text and what to type instead."""


class AttributesError(ValueError):
    """A file of per-image attributes (your own columns) cannot be read; the message names the row and
    column at fault and the fix."""


__all__ = ["ConfigError", "DataError", "CheckpointError", "SearchError", "AttributesError"]
