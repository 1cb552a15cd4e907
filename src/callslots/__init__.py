"""callslots: when may this campaign place a call?

Exact, DST-correct calling windows, retry decisions and call slots for outbound
voice campaigns, read from the scheduling fields of a create-campaign request.
"""

from .campaign import Campaign
from .customers import Customer
from .errors import ConfigError, Problem
from .outcomes import Outcome
from .retry import RetryDecision
from .slots import CallSlot
from .tz import tz_database
from .windows import Hours, Window

__all__ = [
    "CallSlot",
    "Campaign",
    "ConfigError",
    "Customer",
    "Hours",
    "Outcome",
    "Problem",
    "RetryDecision",
    "Window",
    "__version__",
    "tz_database",
]

__version__ = "0.1.0"
