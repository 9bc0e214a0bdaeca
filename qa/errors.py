"""Errors raised by the engine; front ends turn them into messages, HTTP replies or exit codes.

Two families: mistakes of the request (`BadQueryError`; the API answers 4xx) and faults on
the server's side (`ServerError`: its folders, index or models; the API answers 5xx and
logs the message, which may name the server's paths, instead of sending it).
"""


class QAError(Exception):
    """Base class: every message says what went wrong and what to do about it."""


class BadQueryError(QAError):
    """The question or its parameters cannot be answered as given."""


class ServerError(QAError):
    """A fault of the server's own files, settings or models, not of the request."""


class CollectionError(ServerError):
    """The document folder is missing, empty or unreadable, or yields no passage."""


class IndexFormatError(ServerError):
    """The index on disk is missing, damaged or was built with other settings."""


class ModelLoadError(ServerError):
    """The embedding or re-ranking model could not be loaded."""


class StorageError(ServerError):
    """The index or uploads folder cannot be written."""


class BuildCancelled(QAError):
    """A build was stopped on request (between batches); the previous index stays served."""


class IndexNotReady(QAError):
    """No index is served yet: the first build is running, failed or was cancelled.
    `status` is the build's `qa.progress.BuildStatus` (the API replies 503 with it)."""

    def __init__(self, message: str, status) -> None:
        super().__init__(message)
        self.status = status
