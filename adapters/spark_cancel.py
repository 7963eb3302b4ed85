"""Cancelling one Spark statement on the warehouse: its job group, or over Spark Connect its tag.

Local and cluster sessions run each statement in a job group of its own (``setJobGroup`` with
``interruptOnCancel``); cancel is ``cancelJobGroupAndFutureJobs``, so a cancel that comes while
Spark still plans stops the job it submits next, and running tasks are interrupted.

Over Spark Connect the statement's operations carry an operation tag, and cancel is
``interruptTag``. The server interrupts only the operations it *runs* with that tag when the
request arrives (``SparkConnectExecutionManager``: operations are matched as they are registered,
nothing is remembered for later ones). A statement is two operations — ``spark.sql()`` analyses
the query, ``toArrow()`` runs it — and either may still be on its way to the server: an interrupt
that arrives before the server registered the operation, or between the two, stops nothing, and
the job then runs to its end. Against a real one-slot Connect server a timeout of 0.2 s did
exactly that (the job ran its full 40 s). So the interrupt is sent again every
``INTERRUPT_REPEAT_S`` until the statement's thread is done with the server
(``tests/test_spark_connect_cancel.py`` sends the first interrupt just before the query's
operation leaves the client, and checks on the server's REST API that no job or stage runs).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

INTERRUPT_REPEAT_S = 0.25


class StatementCancel:
    """The canceller of one statement (``Statement.set_canceller``); ``finish()`` once it is over.

    Constructed on the thread that runs the statement: the job group (a thread-local property of
    the SparkContext) or the operation tag (thread-local in the Connect client) is set there.
    """

    def __init__(self, spark: Any, group: str, connect: bool, errors: tuple[type[BaseException], ...]) -> None:
        self._spark = spark
        self.group = group
        self.connect = connect
        self._errors = errors
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._repeater: threading.Thread | None = None
        self.interrupted: list[str] = []  # Connect: the operation ids the server reported interrupted
        if connect:
            spark.addTag(group)
        else:
            spark.sparkContext.setJobGroup(group, "segwise query", interruptOnCancel=True)

    def __call__(self) -> None:
        """Cancel (any thread; may be called more than once)."""
        if not self.connect:
            # and its future jobs: a cancel that comes while Spark still plans must stop the job it submits next
            self._spark.sparkContext._jsc.sc().cancelJobGroupAndFutureJobs(self.group)
            return
        with self._lock:
            if self._repeater is None and not self._done.is_set():
                self._repeater = threading.Thread(target=self._repeat, name="segwise-spark-interrupt", daemon=True)
                self._repeater.start()
        self._interrupt()  # at once, on the caller's thread: its failure is the caller's to see

    def _interrupt(self) -> None:
        self.interrupted.extend(self._spark.interruptTag(self.group) or [])

    def _repeat(self) -> None:
        while not self._done.wait(INTERRUPT_REPEAT_S):
            with contextlib.suppress(*self._errors):  # a server that went away: the statement fails anyway
                self._interrupt()

    def finish(self) -> None:
        """The statement's thread is done with the server: stop interrupting, clear the group or tag
        (the thread may run other work next, e.g. a server's pool thread)."""
        self._done.set()
        with contextlib.suppress(*self._errors):
            if self.connect:
                self._spark.removeTag(self.group)
            else:
                self._spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
