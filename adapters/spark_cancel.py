"""Cancelling one Spark statement on the warehouse: its job group, or over Spark Connect its tag.

Local and cluster sessions run each statement in a job group of its own (``setJobGroup`` with
``interruptOnCancel``); cancel is ``cancelJobGroupAndFutureJobs``, so a cancel that comes while
Spark still plans stops the job it submits next, and running tasks are interrupted.

Over Spark Connect the statement's operations carry an operation tag, and cancel is
``interruptTag``. The server interrupts only the operations it *runs* with that tag when the
request arrives (``SessionHolder.interruptTag`` walks the session's registered operations;
nothing is remembered for later ones). A statement is three requests — ``spark.sql()`` (an operation:
the analysis), the result's schema (not an operation), ``toArrow()`` (an operation: the run) — and
an interrupt that arrives between them, or before the server registered the run, stops nothing;
the job then runs to its end. Against a real one-slot Connect server a timeout of 0.2 s did
exactly that (the job ran its full 40 s). So the interrupt is sent again every quarter second
(``cancel.RepeatedCancel``) until the statement's thread is done with the server
(``tests/test_spark_connect_cancel.py`` sends the first interrupt just before the query's
operation leaves the client, and checks on the server's REST API that no job or stage runs).

One gap is left, on the server: the interrupt stops the operation's thread, which cancels the
jobs tagged with the operation; a shuffle stage that adaptive query execution is submitting from
its own thread at that moment (Spark 4) is submitted after that and runs to its end. No request a
Connect client can send cancels it. With ``spark.sql.adaptive.enabled=false`` in the ``sc://``
URL the cancel is reliable (docs/scaling.md, "Timeouts and cancel per engine").
"""

from __future__ import annotations

import contextlib
from typing import Any

from .cancel import RepeatedCancel


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
        self.interrupted: list[str] = []  # Connect: the operation ids the server reported interrupted
        self._interrupt = RepeatedCancel(self._interrupt_tag, errors, name="segwise-spark-interrupt")
        if connect:
            spark.addTag(group)
        else:
            spark.sparkContext.setJobGroup(group, "segwise query", interruptOnCancel=True)

    def __call__(self) -> None:
        """Cancel (any thread; may be called more than once)."""
        if self.connect:
            self._interrupt()
        else:  # and its future jobs: a cancel that comes while Spark still plans must stop the job it submits next
            self._spark.sparkContext._jsc.sc().cancelJobGroupAndFutureJobs(self.group)

    def _interrupt_tag(self) -> None:
        self.interrupted.extend(self._spark.interruptTag(self.group) or [])

    def finish(self) -> None:
        """The statement's thread is done with the server: stop interrupting, clear the group or tag
        (the thread may run other work next, e.g. a server's pool thread)."""
        self._interrupt.finish()
        with contextlib.suppress(*self._errors):
            if self.connect:
                self._spark.removeTag(self.group)
            else:
                self._spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
