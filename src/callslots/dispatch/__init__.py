"""The live engine: a sans-I/O campaign dispatcher (docs/dispatch.md).

A :class:`Dispatcher` never reads a clock and never does I/O.  A service tells it
the time (``poll(now)``) and what happened to the calls it placed (``started``,
``not_started``, ``ended``); it answers with the calls to place now (:class:`Dial`)
and when to ask again (``next_wakeup``).  Its whole state is a JSON-ready
``snapshot()`` that ``restore`` turns back into an engine that behaves exactly
like the original.  ``simulate()`` drives the same engine with a virtual clock.

The files, one job each, each importing only those before it (docs/dispatch.md,
"The files"): :mod:`.values` (Dial, Attempt, Summary, instants as integer UTC
seconds), :mod:`.tally` (the totals; one place counts a customer as done),
:mod:`.states` (a customer's record, its state and the transition table),
:mod:`.grid` (the slot grid), :mod:`.lines` (the lines), :mod:`.reading` (the
customer list, read lazily), :mod:`.groups` (the queues, by callable set),
:mod:`.contacts` (contact-limit bookkeeping), :mod:`.codec` (the snapshot),
:mod:`.queues` (the customers waiting, the choice of the next Dial, wake-ups) and
:mod:`.engine` (the Dispatcher: the events, the queries, the snapshots).
"""

from ..errors import DispatchError
from ..sharing import LOOKAHEAD
from .engine import Dispatcher
from .values import Attempt, Dial, Summary

__all__ = ["LOOKAHEAD", "Attempt", "Dial", "DispatchError", "Dispatcher", "Summary"]
