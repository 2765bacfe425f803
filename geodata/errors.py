"""Errors raised by :mod:`geodata` on purpose.

They subclass :class:`ValueError` where the cause is a bad value or file, so callers that only
know the built-ins still catch them; ``grid_model`` re-raises them as its own domain errors.
"""

from __future__ import annotations


class GeodataError(Exception):
    """Base of every error :mod:`geodata` raises on purpose.

    The message is English. Errors that a user's file causes also carry ``key`` and ``params``
    so that a caller with a message catalogue (``grid_model.messages``) can say it in the
    user's language; ``key`` is None for the others.
    """

    def __init__(self, message: str, *, key: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.key = key
        self.params = params


class CRSError(GeodataError, ValueError):
    """A coordinate reference system name or code that is not understood."""


class UnsupportedFormatError(GeodataError, ValueError):
    """A file extension or format that cannot be read or written."""


class FileReadError(GeodataError, ValueError):
    """A file that cannot be read: the message says which and why."""


class FileWriteError(GeodataError, ValueError):
    """A frame that cannot be written in the requested format: the message says why."""


class PointIndexError(GeodataError, ValueError):
    """Grids or points that :mod:`geodata.pointindex` cannot take: the message says why.

    ``grid_model.needs.geolocate`` re-raises it as ``InvalidInputError`` with the same message.
    """
