"""Call outcomes: the API's outcome values and the SIP / Q.850 tables that map to them.

Every table lives here and only here; docs/outcomes.md prints them.
"""

from __future__ import annotations

import difflib
import enum
import re

__all__ = ["Outcome"]


class Outcome(enum.Enum):
    """How a call attempt ended.

    The first fourteen members are the API's ``retryConditions`` values, spelled
    exactly as the API spells them (``Outcome.NO_ANSWER.value == "No Answer"``).
    ``COMPLETED`` is added beside them for a call that was answered and ended
    normally; it is never a retry condition.
    """

    REJECTED = "Rejected"
    UNREACHABLE = "Unreachable"
    BUSY = "Busy"
    NO_ANSWER = "No Answer"
    NETWORK_ERROR = "Network Error"
    INVALID = "Invalid"
    TIMEOUT = "Timeout"
    CANCELLED = "Cancelled"
    RESOURCE_UNAVAILABLE = "Resource Unavailable"
    SERVICE_UNAVAILABLE = "Service Unavailable"
    PROTOCOL_ERROR = "Protocol Error"
    UNSPECIFIED = "Unspecified"
    VOICEMAIL = "voicemail"
    EXCEEDED_MAX_DURATION = "exceeded-max-duration"
    COMPLETED = "Completed"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: object) -> Outcome:
        """An outcome from its API string, leniently: case, spaces, hyphens and
        underscores do not matter (``"no_answer"``, ``"VOICEMAIL"``).

        Raises ValueError, with the closest values suggested, for anything else.
        """
        if isinstance(value, Outcome):
            return value
        if not isinstance(value, str):
            raise ValueError(f"an outcome must be a string, not {type(value).__name__}")
        found = _BY_KEY.get(_key(value))
        if found is None:
            raise ValueError(_unknown_message(value))
        return found

    @classmethod
    def from_sip(cls, code: int) -> Outcome:
        """The outcome of a call that ended with final SIP response ``code`` (RFC 3261).

        2xx is COMPLETED.  A 3xx-6xx code missing from the table is treated as
        the x00 code of its class, as RFC 3261 section 8.1.3.2 tells a client to
        do with responses it does not recognise.  1xx (not final) and numbers
        outside 100-699 raise ValueError.
        """
        if isinstance(code, bool) or not isinstance(code, int):
            raise ValueError(f"a SIP response code must be an integer, not {code!r}")
        if not 100 <= code <= 699:
            raise ValueError(f"{code} is not a SIP response code (100-699)")
        if code < 200:
            raise ValueError(f"SIP {code} is a provisional response, not the end of a call")
        if code < 300:
            return cls.COMPLETED
        return SIP_OUTCOMES.get(code) or SIP_OUTCOMES[code // 100 * 100]

    @classmethod
    def from_q850(cls, cause: int) -> Outcome:
        """The outcome of a call cleared with ITU-T Q.850 cause value ``cause`` (0-127).

        A value missing from the table is treated as the "unspecified" cause of
        its class (31, 47, 63, 79, 95, 111 or 127), as Q.850 prescribes for
        unrecognised causes.  Values outside 0-127 raise ValueError.
        """
        if isinstance(cause, bool) or not isinstance(cause, int):
            raise ValueError(f"a Q.850 cause must be an integer, not {cause!r}")
        if not 0 <= cause <= 127:
            raise ValueError(f"{cause} is not a Q.850 cause value (0-127)")
        found = Q850_OUTCOMES.get(cause)
        if found is None:
            found = Q850_OUTCOMES[cause // 16 * 16 + 15 if cause >= 32 else 31]
        return found


def _key(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text).casefold()


_BY_KEY = {_key(o.value): o for o in Outcome}
#: The values accepted in ``retryConditions``: every outcome but COMPLETED.
RETRYABLE = tuple(o for o in Outcome if o is not Outcome.COMPLETED)
#: The API's default ``retryConditions``.
DEFAULT_RETRY_CONDITIONS = (
    Outcome.NO_ANSWER,
    Outcome.BUSY,
    Outcome.TIMEOUT,
    Outcome.UNREACHABLE,
    Outcome.NETWORK_ERROR,
    Outcome.RESOURCE_UNAVAILABLE,
    Outcome.SERVICE_UNAVAILABLE,
    Outcome.VOICEMAIL,
)


def _unknown_message(value: str) -> str:
    names = {_key(o.value): o.value for o in Outcome}
    close = difflib.get_close_matches(_key(value), list(names), n=2, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(names[c]) for c in close)}?" if close else ""
    return f"unknown outcome {value!r}{hint} (one of: {', '.join(o.value for o in Outcome)})"


_O = Outcome
#: Final SIP responses (RFC 3261 section 21 and later RFCs) -> outcome.  The x00
#: entries are also the fallback of their class.
SIP_OUTCOMES: dict[int, Outcome] = {
    # 3xx: the person is elsewhere; we do not follow redirects.
    300: _O.UNREACHABLE,  # Multiple Choices
    301: _O.UNREACHABLE,  # Moved Permanently
    302: _O.UNREACHABLE,  # Moved Temporarily
    305: _O.UNREACHABLE,  # Use Proxy
    380: _O.UNREACHABLE,  # Alternative Service
    # 4xx: the request failed at this server.
    400: _O.PROTOCOL_ERROR,  # Bad Request
    401: _O.REJECTED,  # Unauthorized
    402: _O.REJECTED,  # Payment Required
    403: _O.REJECTED,  # Forbidden
    404: _O.INVALID,  # Not Found
    405: _O.PROTOCOL_ERROR,  # Method Not Allowed
    406: _O.PROTOCOL_ERROR,  # Not Acceptable
    407: _O.REJECTED,  # Proxy Authentication Required
    408: _O.TIMEOUT,  # Request Timeout
    410: _O.INVALID,  # Gone
    412: _O.PROTOCOL_ERROR,  # Conditional Request Failed
    413: _O.PROTOCOL_ERROR,  # Request Entity Too Large
    414: _O.PROTOCOL_ERROR,  # Request-URI Too Long
    415: _O.PROTOCOL_ERROR,  # Unsupported Media Type
    416: _O.PROTOCOL_ERROR,  # Unsupported URI Scheme
    417: _O.PROTOCOL_ERROR,  # Unknown Resource-Priority
    420: _O.PROTOCOL_ERROR,  # Bad Extension
    421: _O.PROTOCOL_ERROR,  # Extension Required
    422: _O.PROTOCOL_ERROR,  # Session Interval Too Small
    423: _O.PROTOCOL_ERROR,  # Interval Too Brief
    428: _O.REJECTED,  # Use Identity Header
    429: _O.REJECTED,  # Provide Referrer Identity
    430: _O.NETWORK_ERROR,  # Flow Failed
    433: _O.REJECTED,  # Anonymity Disallowed
    436: _O.REJECTED,  # Bad Identity-Info
    437: _O.REJECTED,  # Unsupported Certificate
    438: _O.REJECTED,  # Invalid Identity Header
    439: _O.NETWORK_ERROR,  # First Hop Lacks Outbound Support
    440: _O.PROTOCOL_ERROR,  # Max-Breadth Exceeded
    469: _O.PROTOCOL_ERROR,  # Bad Info Package
    470: _O.REJECTED,  # Consent Needed
    480: _O.UNREACHABLE,  # Temporarily Unavailable
    481: _O.PROTOCOL_ERROR,  # Call/Transaction Does Not Exist
    482: _O.NETWORK_ERROR,  # Loop Detected
    483: _O.NETWORK_ERROR,  # Too Many Hops
    484: _O.INVALID,  # Address Incomplete
    485: _O.INVALID,  # Ambiguous
    486: _O.BUSY,  # Busy Here
    487: _O.CANCELLED,  # Request Terminated
    488: _O.PROTOCOL_ERROR,  # Not Acceptable Here
    489: _O.PROTOCOL_ERROR,  # Bad Event
    491: _O.PROTOCOL_ERROR,  # Request Pending
    493: _O.PROTOCOL_ERROR,  # Undecipherable
    494: _O.REJECTED,  # Security Agreement Required
    # 5xx: the server failed.
    500: _O.SERVICE_UNAVAILABLE,  # Server Internal Error
    501: _O.PROTOCOL_ERROR,  # Not Implemented
    502: _O.NETWORK_ERROR,  # Bad Gateway
    503: _O.SERVICE_UNAVAILABLE,  # Service Unavailable
    504: _O.TIMEOUT,  # Server Time-out
    505: _O.PROTOCOL_ERROR,  # Version Not Supported
    513: _O.PROTOCOL_ERROR,  # Message Too Large
    555: _O.PROTOCOL_ERROR,  # Push Notification Service Not Supported
    580: _O.RESOURCE_UNAVAILABLE,  # Precondition Failure
    # 6xx: a definitive answer from the person's side.
    600: _O.BUSY,  # Busy Everywhere
    603: _O.REJECTED,  # Decline
    604: _O.INVALID,  # Does Not Exist Anywhere
    606: _O.PROTOCOL_ERROR,  # Not Acceptable
    607: _O.REJECTED,  # Unwanted
    608: _O.REJECTED,  # Rejected
}

#: ITU-T Q.850 cause values -> outcome.  31, 47, 63, 79, 95, 111 and 127 are
#: the "unspecified" causes of their classes and serve as class fallbacks.
Q850_OUTCOMES: dict[int, Outcome] = {
    # Normal class (0-31)
    1: _O.INVALID,  # Unallocated (unassigned) number
    2: _O.NETWORK_ERROR,  # No route to specified transit network
    3: _O.UNREACHABLE,  # No route to destination
    4: _O.INVALID,  # Send special information tone
    5: _O.INVALID,  # Misdialled trunk prefix
    6: _O.NETWORK_ERROR,  # Channel unacceptable
    7: _O.COMPLETED,  # Call awarded, being delivered in an established channel
    8: _O.NETWORK_ERROR,  # Preemption
    9: _O.NETWORK_ERROR,  # Preemption, circuit reserved for reuse
    14: _O.INVALID,  # QoR: ported number
    16: _O.COMPLETED,  # Normal call clearing
    17: _O.BUSY,  # User busy
    18: _O.NO_ANSWER,  # No user responding
    19: _O.NO_ANSWER,  # No answer from user (user alerted)
    20: _O.UNREACHABLE,  # Subscriber absent
    21: _O.REJECTED,  # Call rejected
    22: _O.INVALID,  # Number changed
    23: _O.UNREACHABLE,  # Redirection to new destination
    25: _O.NETWORK_ERROR,  # Exchange routing error
    26: _O.CANCELLED,  # Non-selected user clearing
    27: _O.UNREACHABLE,  # Destination out of order
    28: _O.INVALID,  # Invalid number format (address incomplete)
    29: _O.REJECTED,  # Facility rejected
    30: _O.UNSPECIFIED,  # Response to STATUS ENQUIRY
    31: _O.UNSPECIFIED,  # Normal, unspecified
    # Resource unavailable class (32-47)
    34: _O.RESOURCE_UNAVAILABLE,  # No circuit/channel available
    38: _O.NETWORK_ERROR,  # Network out of order
    39: _O.NETWORK_ERROR,  # Permanent frame mode connection out of service
    40: _O.NETWORK_ERROR,  # Permanent frame mode connection operational
    41: _O.NETWORK_ERROR,  # Temporary failure
    42: _O.RESOURCE_UNAVAILABLE,  # Switching equipment congestion
    43: _O.PROTOCOL_ERROR,  # Access information discarded
    44: _O.RESOURCE_UNAVAILABLE,  # Requested circuit/channel not available
    46: _O.REJECTED,  # Precedence call blocked
    47: _O.RESOURCE_UNAVAILABLE,  # Resource unavailable, unspecified
    # Service or option not available class (48-63)
    49: _O.RESOURCE_UNAVAILABLE,  # Quality of Service not available
    50: _O.REJECTED,  # Requested facility not subscribed
    53: _O.REJECTED,  # Outgoing calls barred within CUG
    55: _O.REJECTED,  # Incoming calls barred within CUG
    57: _O.REJECTED,  # Bearer capability not authorized
    58: _O.RESOURCE_UNAVAILABLE,  # Bearer capability not presently available
    62: _O.REJECTED,  # Inconsistency in outgoing access information and subscriber class
    63: _O.SERVICE_UNAVAILABLE,  # Service or option not available, unspecified
    # Service or option not implemented class (64-79)
    65: _O.SERVICE_UNAVAILABLE,  # Bearer capability not implemented
    66: _O.SERVICE_UNAVAILABLE,  # Channel type not implemented
    69: _O.SERVICE_UNAVAILABLE,  # Requested facility not implemented
    70: _O.SERVICE_UNAVAILABLE,  # Only restricted digital information bearer capability
    79: _O.SERVICE_UNAVAILABLE,  # Service or option not implemented, unspecified
    # Invalid message class (80-95)
    81: _O.PROTOCOL_ERROR,  # Invalid call reference value
    82: _O.PROTOCOL_ERROR,  # Identified channel does not exist
    83: _O.PROTOCOL_ERROR,  # A suspended call exists, but this call identity does not
    84: _O.PROTOCOL_ERROR,  # Call identity in use
    85: _O.PROTOCOL_ERROR,  # No call suspended
    86: _O.PROTOCOL_ERROR,  # Call having the requested call identity has been cleared
    87: _O.REJECTED,  # User not member of CUG
    88: _O.INVALID,  # Incompatible destination
    90: _O.INVALID,  # Non-existent CUG
    91: _O.INVALID,  # Invalid transit network selection
    95: _O.PROTOCOL_ERROR,  # Invalid message, unspecified
    # Protocol error class (96-111)
    96: _O.PROTOCOL_ERROR,  # Mandatory information element is missing
    97: _O.PROTOCOL_ERROR,  # Message type non-existent or not implemented
    98: _O.PROTOCOL_ERROR,  # Message not compatible with call state
    99: _O.PROTOCOL_ERROR,  # Information element / parameter non-existent
    100: _O.PROTOCOL_ERROR,  # Invalid information element contents
    101: _O.PROTOCOL_ERROR,  # Message not compatible with call state
    102: _O.TIMEOUT,  # Recovery on timer expiry
    103: _O.PROTOCOL_ERROR,  # Parameter non-existent or not implemented, passed on
    110: _O.PROTOCOL_ERROR,  # Message with unrecognized parameter, discarded
    111: _O.PROTOCOL_ERROR,  # Protocol error, unspecified
    # Interworking class (112-127)
    127: _O.NETWORK_ERROR,  # Interworking, unspecified
}
