"""The storydesk exception tree.

Every error storydesk raises on purpose derives from :class:`StorydeskError`, so a
caller can catch one class. The tree is small and documented::

    StorydeskError
    ├── ConfigError            bad option, unknown stage, missing optional extra
    ├── InputError             an input cannot be read as an article at all
    │   └── RejectedInput      one input rejected, with a machine-readable reason code
    ├── NotFoundError          no article, event or storyline with that id
    ├── StoreError             the store cannot be opened, migrated or written
    │   ├── SchemaVersionError the database was written by a newer storydesk
    │   └── StoreBusyError     another writer held the database for longer than the busy timeout
    ├── PipelineError          stages do not fit together, or a stage failed
    │   └── MissingInputError  a stage needs records that no earlier stage produced
    ├── ModelError             an offline model or its files are not installed
    └── EvalError              an evaluation data set is missing or malformed

A dropped article is never silent: ingest turns a :class:`RejectedInput` into a
stored :class:`~storydesk.models.Rejection` with its reason.
"""

from __future__ import annotations


class StorydeskError(Exception):
    """Base class of every error storydesk raises on purpose."""


class ConfigError(StorydeskError):
    """A configuration value, option or optional dependency is wrong or missing."""


class InputError(StorydeskError):
    """An input cannot be read."""


class RejectedInput(InputError):
    """One input item was rejected.

    Attributes:
        source: The file path or source id of the rejected item.
        code: A short machine-readable reason: ``binary``, ``empty``, ``encoding``,
            ``json``, ``too_large``, ``no_text``, ``html``, ``feed``, ``date``, ``fields``;
            ``unreadable`` (a file or folder that cannot be read), ``not_a_file`` (a pipe,
            socket or device), ``symlink`` (a link that loops, dangles or points outside the
            input folders); ``too_complex`` (nested too deeply or too large to parse) and
            ``internal`` (any other unexpected error on that one input: a bug, reported with
            the exception's type, while the run goes on).
        reason: A human-readable explanation.
    """

    def __init__(self, source: str, code: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.code = code
        self.reason = reason


class StoreError(StorydeskError):
    """The store cannot be opened, migrated or written."""


class NotFoundError(StorydeskError):
    """No article, event or storyline with the requested id.

    Deliberately not a :class:`KeyError`: a ``KeyError`` raised by a bug must not
    be mistaken for "not found".
    """


class StoreBusyError(StoreError):
    """Another writer held the database lock for longer than the busy timeout."""


class SchemaVersionError(StoreError):
    """The database schema is newer than this version of storydesk understands."""


class PipelineError(StorydeskError):
    """The pipeline is misconfigured or a stage failed."""


class MissingInputError(PipelineError):
    """A stage requires records that no earlier stage (or the store) provides."""


class ModelError(StorydeskError):
    """An offline model, or one of its files, is not installed."""


class EvalError(StorydeskError):
    """An evaluation data set is missing or malformed."""
