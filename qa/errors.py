"""Errors raised by the engine; front ends turn them into messages, 4xx replies or exit codes."""


class QAError(Exception):
    """Base class: every message says what went wrong and what to do about it."""


class BadQueryError(QAError):
    """The question or its parameters cannot be answered as given."""


class CollectionError(QAError):
    """The document folder is missing, empty or unreadable."""


class IndexFormatError(QAError):
    """The index on disk is missing, damaged or was built with other settings."""


class ModelLoadError(QAError):
    """The embedding or re-ranking model could not be loaded."""
