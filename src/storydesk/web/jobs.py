"""Background ingest jobs: the REST API queues them, one worker thread runs them in order.

A job holds its inputs (the articles of a JSON request, or uploaded files in a private
temporary folder); the worker ingests them with :meth:`Storydesk.ingest_records` or
:meth:`Storydesk.ingest`, then builds incrementally over the shared store. One worker
means one writer at a time, which is what SQLite wants; readers (the web pages) keep
their own connections and see each stage's results as they commit.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import queue
import shutil
import threading
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storydesk.api import Storydesk
from storydesk.errors import NotFoundError, StorydeskError

log = logging.getLogger("storydesk.web")

#: Finished jobs kept for status queries (oldest are forgotten first).
KEEP_JOBS = 500


def _now() -> str:
    """UTC timestamp for job bookkeeping."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


@dataclass
class Job:
    """One ingest request and what became of it.

    ``status`` goes ``queued`` → ``ingesting`` → ``building`` → ``done`` (or ``failed``).
    """

    id: str
    inputs: list[str]
    #: Uploaded files to ingest (the job owns the folder and deletes it), or None.
    folder: Path | None = None
    #: Articles sent as JSON to ingest (dropped once the job ran), or None.
    records: list[Any] | None = None
    status: str = "queued"
    created: str = field(default_factory=_now)
    started: str | None = None
    finished: str | None = None
    report: dict[str, Any] | None = None
    build: dict[str, Any] | None = None
    events: list[str] = field(default_factory=list)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready status (the temporary folder is private)."""
        return {
            "id": self.id,
            "status": self.status,
            "inputs": self.inputs,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "report": self.report,
            "build": self.build,
            "events": self.events,
            "error": self.error,
        }


class JobRunner:
    """Runs ingest jobs one at a time on a worker thread.

    Args:
        open_desk: Builds the writer :class:`Storydesk`; called once, on the worker thread.
        on_change: Called after each job (the app uses it to wake live updates).
    """

    def __init__(self, open_desk: Callable[[], Storydesk], on_change: Callable[[], None] | None = None) -> None:
        self._open_desk = open_desk
        self._on_change = on_change
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._thread: threading.Thread | None = None
        self._desk: Storydesk | None = None

    def start(self) -> None:
        """Start the worker thread (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="storydesk-jobs", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Let the worker finish the current job, then stop it."""
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)
        self._thread = None

    def submit(self, folder: Path, inputs: list[str]) -> Job:
        """Queue a job over the files in ``folder`` (which the job then owns and deletes)."""
        return self._queue_job(Job(id=self._new_id(), inputs=inputs, folder=folder))

    def submit_records(self, records: list[Any], inputs: list[str]) -> Job:
        """Queue a job over articles sent as parsed JSON (each validated like an object of a JSON file)."""
        return self._queue_job(Job(id=self._new_id(), inputs=inputs, records=records))

    def _new_id(self) -> str:
        return f"job-{next(self._counter)}-{uuid.uuid4().hex[:8]}"

    def _queue_job(self, job: Job) -> Job:
        """Remember a job (forgetting the oldest finished ones) and queue it."""
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP_JOBS:
                old_id, old = next(iter(self._jobs.items()))
                if old.status not in ("done", "failed"):
                    break
                del self._jobs[old_id]
        self.start()
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> Job:
        """One job; raises NotFoundError if unknown (or long forgotten)."""
        with self._lock:
            try:
                return self._jobs[job_id]
            except KeyError:
                raise NotFoundError(f"no job with id {job_id!r}") from None

    def jobs(self) -> list[Job]:
        """Known jobs, newest first."""
        with self._lock:
            return list(reversed(self._jobs.values()))

    def counts(self) -> dict[str, int]:
        """How many jobs are in each status."""
        out: dict[str, int] = {}
        with self._lock:
            for j in self._jobs.values():
                out[j.status] = out.get(j.status, 0) + 1
        return out

    # ------------------------------------------------------------------ worker
    def _work(self) -> None:
        """Worker loop: run queued jobs until told to stop."""
        try:
            while True:
                job = self._queue.get()
                if job is None:
                    return
                self._run(job)
        finally:
            if self._desk is not None:
                self._desk.close()
                self._desk = None

    def _set(self, job: Job, **changes: Any) -> None:
        """Update a job's fields under the lock (status readers run on other threads)."""
        with self._lock:
            for k, v in changes.items():
                setattr(job, k, v)

    def _run(self, job: Job) -> None:
        """Ingest a job's folder, then build; record the outcome on the job."""
        self._set(job, status="ingesting", started=_now())
        try:
            if self._desk is None:
                self._desk = self._open_desk()
            desk = self._desk
            if job.records is not None:
                report = desk.ingest_records(job.records)
            else:
                report = desk.ingest([job.folder] if job.folder is not None else [])
            self._set(job, status="building", report=report.as_dict())
            if self._on_change:
                self._on_change()
            stats = desk.build()
            touched = desk.events_of(report.added + report.updated + report.skipped)
            self._set(
                job,
                status="done",
                build=stats,
                events=touched,
                finished=_now(),
            )
        except StorydeskError as e:
            self._set(job, status="failed", error=f"{type(e).__name__}: {e}", finished=_now())
        except Exception:  # the worker must survive any job; the details go to the server log only
            log.error("job %s failed:\n%s", job.id, traceback.format_exc())
            self._set(
                job,
                status="failed",
                error=f"internal error (job {job.id}); the details are in the server log",
                finished=_now(),
            )
        finally:
            if job.folder is not None:
                shutil.rmtree(job.folder, ignore_errors=True)
            job.records = None  # finished jobs are kept for status queries: not their articles
            if self._on_change:
                self._on_change()
