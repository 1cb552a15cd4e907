"""callslots: when may this campaign place a call?

Exact, DST-correct calling windows, retry decisions and call slots for outbound
voice campaigns, read from the scheduling fields of a create-campaign request.
"""

from .campaign import Campaign
from .customers import Customer
from .dates import DayRule, Holidays
from .dispatch import Dial, Dispatcher, DispatchError
from .errors import ConfigError, Problem
from .explain import Explanation, Reason
from .outcomes import Outcome
from .recipients import RecipientView
from .retry import RetryDecision
from .simulate import (
    Attempt,
    OutcomeModel,
    RandomOutcomes,
    ReplayOutcomes,
    Simulation,
    Summary,
    simulate,
)
from .slots import CallSlot
from .tz import tz_database
from .windows import Hours, Window

__all__ = [
    "Attempt",
    "CallSlot",
    "Campaign",
    "ConfigError",
    "Customer",
    "DayRule",
    "Dial",
    "DispatchError",
    "Dispatcher",
    "Explanation",
    "Holidays",
    "Hours",
    "Outcome",
    "OutcomeModel",
    "Problem",
    "RandomOutcomes",
    "Reason",
    "RecipientView",
    "ReplayOutcomes",
    "RetryDecision",
    "Simulation",
    "Summary",
    "Window",
    "__version__",
    "simulate",
    "tz_database",
]

__version__ = "0.1.0"
