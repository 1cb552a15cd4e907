"""The errors of :mod:`callslots.store`."""

from __future__ import annotations

__all__ = ["LeaseLost", "RunUnreadable", "StoreError", "StoreUnavailable"]


class StoreError(Exception):
    """Something the store cannot do, with a message that says why (an unknown
    run, a URL it cannot read, a database error)."""


class StoreUnavailable(StoreError):
    """The database cannot be reached or did not answer (a restart, a network
    cut, a lock held too long).  Whether the last write committed is unknown:
    drop what you hold, reconnect (:meth:`Store.reconnect`) and lease again."""


class LeaseLost(StoreError):
    """This worker no longer holds the run's lease (it expired, or another
    worker took the run): nothing was written.  Forget the run; the worker that
    holds it now restores it from the database."""


class RunUnreadable(StoreError):
    """A run's stored state cannot be restored: a corrupted or foreign snapshot,
    a log that does not replay, or a campaign that changed since the run was
    created.  The run is left exactly as it was, for an operator to look at."""

    def __init__(self, run_id: int, message: str) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id}: {message}")
