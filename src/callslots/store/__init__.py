"""Durable campaign runs on SQLite or PostgreSQL (docs/store.md).

An optional part of callslots: SQLite needs nothing beyond the standard
library; PostgreSQL needs ``psycopg`` 3 (``pip install 'callslots[postgres]'``).

    store = Store.open("sqlite:///runs.db")
    run_id = store.create_run(payload)              # customers streamed in
    worker = store.worker("worker-1")
    for run in worker.due():                         # leased, restored, due now
        for dial in run.in_doubt(): ...              # settle from the telephony log
        for dial in run.poll():                      # logged before it is returned
            if run.may_dial():                       # the lease has time left
                telephony.dial(dial)
            else:                                    # too late: not placed
                run.not_started(dial.call_id, "lease ending")
    store.record_ended(run_id, call_id, outcome, at)  # from any process

A sketch: ``payload``, ``telephony``, ``call_id``, ``outcome`` and ``at`` are the
service's; docs/tutorial.md runs a whole example.
"""

from .archive import RunArchive, read_archive
from .errors import LeaseLost, RunUnreadable, StoreError, StoreUnavailable
from .store import (
    DUE_NOW,
    Event,
    Run,
    RunId,
    RunInfo,
    Store,
    StoreStats,
    Worker,
    summary_dict,
)

__all__ = [
    "DUE_NOW",
    "Event",
    "LeaseLost",
    "Run",
    "RunArchive",
    "RunId",
    "RunInfo",
    "RunUnreadable",
    "Store",
    "StoreError",
    "StoreStats",
    "StoreUnavailable",
    "Worker",
    "read_archive",
    "summary_dict",
]
