"""callslots: when may this campaign place a call?

Exact, DST-correct calling windows, retry decisions and call slots for outbound
voice campaigns, read from the scheduling fields of a create-campaign request.
"""

from .campaign import Campaign
from .customers import CallRecord, Customer
from .dates import DayRule, Holidays
from .dispatch import Dial, Dispatcher, DispatchError
from .errors import ConfigError, Problem
from .explain import Explanation, Reason
from .limited import LimitedView
from .limits import ContactLimit, QuietRule
from .outcomes import Outcome
from .recipients import RecipientView, ViewKey
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
    "CallRecord",
    "CallSlot",
    "Campaign",
    "ConfigError",
    "ContactLimit",
    "Customer",
    "DayRule",
    "Dial",
    "DispatchError",
    "Dispatcher",
    "Explanation",
    "Holidays",
    "Hours",
    "LimitedView",
    "Outcome",
    "OutcomeModel",
    "Problem",
    "QuietRule",
    "RandomOutcomes",
    "Reason",
    "RecipientView",
    "ReplayOutcomes",
    "RetryDecision",
    "Simulation",
    "Summary",
    "ViewKey",
    "Window",
    "__version__",
    "simulate",
    "tz_database",
]

__version__ = "0.2.0"
"""The version of this callslots (semantic versioning; CHANGELOG.md)."""
