"""The live engine: a sans-I/O campaign dispatcher (docs/dispatch.md).

A :class:`Dispatcher` never reads a clock and never does I/O.  A service tells it
the time (``poll(now)``) and what happened to the calls it placed (``started``,
``not_started``, ``ended``); it answers with the calls to place now (:class:`Dial`)
and when to ask again (``next_wakeup``).  Its whole state is a JSON-ready
``snapshot()`` that ``restore`` turns back into an engine that behaves exactly
like the original.  ``simulate()`` drives the same engine with a virtual clock.

The files, one job each:

* :mod:`.values`: the values it hands out (Dial, Attempt, Summary) and the
  conversion of instants to the integer UTC seconds used inside;
* :mod:`.engine`: the Dispatcher itself.
"""

from ..errors import DispatchError
from ..sharing import LOOKAHEAD
from .engine import Dispatcher
from .values import Attempt, Dial, Summary

__all__ = ["LOOKAHEAD", "Attempt", "Dial", "DispatchError", "Dispatcher", "Summary"]
