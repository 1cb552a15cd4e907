"""A campaign seen before it runs: charts of its calling week, its windows and a
simulated run, and one self-contained HTML page holding them (docs/report.md).

The charts are drawn by matplotlib (the optional extra ``callslots[report]``) as SVG
and inlined in the page: no script, font or style sheet is fetched, no JavaScript is
needed to read it.  Everything the page counts comes from one pass over a
:class:`~callslots.simulate.Simulation`, aggregated into time bins as it goes (a few
hundred points a series, never one element per call), so the page stays small for
any number of customers.  The figures equal the simulation's :class:`Summary`.
"""

from __future__ import annotations

import html
import io
import json
import math
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from importlib import metadata
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from .campaign import Campaign
from .customers import Customer
from .notes import local as notes_local
from .notes import removed_days, window_note
from .outcomes import Outcome
from .recipients import RecipientView, ViewKey
from .simulate import Simulation, Summary
from .tz import tz_database
from .windows import Calendar

if TYPE_CHECKING:  # matplotlib is an optional extra, imported when a chart is drawn
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "REPORT_INSTALL",
    "Chart",
    "MissingReportExtra",
    "Report",
    "build",
    "figures",
    "labelled",
    "to_html",
]

UTC = timezone.utc
REPORT_INSTALL = "pip install 'callslots[report]'"

#: Okabe & Ito's palette (2008), distinguishable with every common colour-vision
#: deficiency; black last, for reference lines.
PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
#: More outcomes than colours: the bars repeat a colour with a hatch.
HATCHES = ("", "//", "..", "xx")
#: At most this many points (bins) a time series: keeps the page small for any run.
MAX_BINS = 400
#: The windows are drawn one row a day for at most this many days; a longer range
#: is drawn as callable hours a day.
MAX_WINDOW_ROWS = 62
#: Rows of the calling week and of calls by zone; the rest are summed into one row.
MAX_ZONE_ROWS = 24
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: The local days whose windows are drawn stay two days inside the time line's ends
#: (0001-01-01, 9999-12-31), where every zone's midnight is an instant ``datetime``
#: holds; a range reaching further is cut there.
FIRST_DAY = date(1, 1, 3)
LAST_DAY = date(9999, 12, 28)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_NICE_BINS = (60, 300, 900, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400, 28 * 86400)


class MissingReportExtra(ImportError):
    """matplotlib is not installed: ``str()`` says how to install it."""

    def __init__(self) -> None:
        super().__init__(f"the report needs matplotlib: {REPORT_INSTALL}")


@dataclass(frozen=True, slots=True)
class Chart:
    """One chart of the report: ``key`` (a stable name, also its HTML id), ``title``,
    ``description`` (its text alternative: what it shows and its main figures), and
    ``figure`` (a matplotlib Figure), or None with ``message`` saying why there is
    nothing to draw (no callable time, no customers, no calls)."""

    key: str
    title: str
    description: str
    figure: Figure | None = field(default=None, repr=False)
    message: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    """What the page shows: the campaign, the range ``[start, end)`` its windows are
    drawn for, the simulation's ``summary``, the ``charts`` and ``customers`` (how
    many were read)."""

    campaign: Campaign
    start: datetime
    end: datetime
    summary: Summary
    customers: int
    charts: tuple[Chart, ...]
    zones: tuple[str, ...]


def _version() -> str:
    """callslots's version as installed (the package's __init__ is above this module)."""
    try:
        return metadata.version("callslots")
    except metadata.PackageNotFoundError:  # run from a source tree, not installed
        return "unknown"


def _matplotlib() -> Any:
    try:
        import matplotlib
        from matplotlib.figure import Figure  # noqa: F401 (fails early when broken)
    except ImportError:
        raise MissingReportExtra() from None
    return matplotlib


# -- one pass over the simulation ------------------------------------------------------


class _Zones:
    """The zone label of each customer by index: ``properties.timezone`` when given,
    else the zones its calling hours are read in (``recipientHours`` or calling
    rules; several joined by `` + ``), else the campaign's zone; under calling rules
    the label also names the rules' scopes (``America/New_York (federal, FL)``), since
    customers of one zone in two states have different hours.  Also keeps one
    customer of each label, whose view draws that label's calling week, the zone each
    label's local dates are read in, and how many customers each calling rule and
    contact limit applies to."""

    def __init__(self, campaign: Campaign, customers: Iterable[object] | None) -> None:
        self.campaign = campaign
        self.labels: list[str] = []
        self.sample: dict[str, object] = {}
        self.zone_of: dict[str, str] = {}
        self.rules: Counter[str] = Counter()
        #: The views of the customers read, by key, and how many customers each.
        self.views: dict[ViewKey, RecipientView] = {}
        self.view_counts: Counter[ViewKey] = Counter()
        self._ids: dict[str, str] = {}
        self.source: Iterable[object] = campaign.customers if customers is None else customers
        self._sequence = isinstance(self.source, Sequence)

    def __iter__(self) -> Iterator[object]:
        """The customers, each labelled as the simulation reads it."""
        for item in self.source:
            if not self._sequence:
                self.labels.append(self._label(item))
            yield item

    def label(self, index: int) -> str:
        if not self._sequence:
            return self.labels[index] if index < len(self.labels) else self.campaign.timezone
        while len(self.labels) <= index:  # a sequence: labelled when first needed
            assert isinstance(self.source, Sequence)
            self.labels.append(self._label(self.source[len(self.labels)]))
        return self.labels[index]

    def label_all(self) -> None:
        """Label the customers of a sequence that no call reached (never dialed)."""
        if self._sequence:
            assert isinstance(self.source, Sequence)
            if len(self.source) > len(self.labels):
                self.label(len(self.source) - 1)

    def _label(self, item: object) -> str:
        campaign = self.campaign
        properties: object = None
        if isinstance(item, Customer):
            properties = item.properties
        elif isinstance(item, Mapping):
            properties = item.get("properties")
        own = properties.get("timezone") if isinstance(properties, Mapping) else None
        label = zone = own if isinstance(own, str) and own else campaign.timezone
        if campaign.per_customer:
            try:
                view = campaign.view_for(item)
            except Exception:  # the simulation reports a bad customer itself
                view = None
            if view is not None:
                if view.zones:
                    label, zone = " + ".join(view.zones), view.zones[0]
                if view.scopes:
                    label += f" ({', '.join(view.scopes)})"
                self.views.setdefault(view.key, view)
                self.view_counts[view.key] += 1
                rules = {cut.rule for cut in view.cuts if cut.rule}
                rules.update(f"{limit.name}: {limit.describe()}" for limit in view.limits)
                rules.update(
                    f"{quiet.name}: no call on the {quiet.days} local days from a conversation"
                    for quiet in view.quiet
                )
                self.rules.update(rules)
        known = self._ids.get(label)
        if known is None:  # one string a label, not one a customer
            known = self._ids[label] = label
            self.sample[label] = item
            self.zone_of[label] = zone
        return known


@dataclass(slots=True)
class _Calls:
    """Each attempt in a few bytes: start and end (UTC seconds), outcome, attempt
    number, whether it was the customer's last, and its zone label's number."""

    starts: array[int] = field(default_factory=lambda: array("q"))
    ends: array[int] = field(default_factory=lambda: array("q"))
    outcomes: array[int] = field(default_factory=lambda: array("B"))
    numbers: array[int] = field(default_factory=lambda: array("H"))
    last: array[int] = field(default_factory=lambda: array("B"))
    zones: array[int] = field(default_factory=lambda: array("H"))
    zone_names: list[str] = field(default_factory=list)


_OUTCOMES = tuple(Outcome)
_OUTCOME_CODE = {o: i for i, o in enumerate(_OUTCOMES)}


def _collect(simulation: Simulation, zones: _Zones) -> _Calls:
    calls = _Calls()
    codes: dict[str, int] = {}
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for a in simulation:
        calls.starts.append((a.at - epoch) // timedelta(seconds=1))
        calls.ends.append((a.ended_at - epoch) // timedelta(seconds=1))
        calls.outcomes.append(_OUTCOME_CODE[a.outcome])
        calls.numbers.append(min(a.attempt, 65535))
        calls.last.append(a.retry_at is None)
        label = zones.label(a.customer_index)
        code = codes.get(label)
        if code is None:
            code = codes[label] = len(calls.zone_names)
            calls.zone_names.append(label)
        calls.zones.append(code)
    return calls


# -- the report ------------------------------------------------------------------------


def build(
    campaign: Campaign,
    simulation: Simulation,
    *,
    customers: Iterable[object] | None = None,
    start: datetime | None = None,
    days: int = 14,
) -> Report:
    """Play ``simulation`` to its end and draw the report's charts.

    ``customers``: what the simulation was given (None: the campaign's).  A sequence
    is looked up by index; a one-shot iterable must be wrapped first with
    :func:`labelled` and the wrapper given to both ``simulate`` and here.
    ``start``: the first instant of the range whose windows are drawn (default: the
    campaign's first day, else now), for ``days`` local days.
    Raises :class:`MissingReportExtra` without matplotlib (before simulating).
    """
    _matplotlib()
    zones = customers if isinstance(customers, _Zones) else _Zones(campaign, customers)
    calls = _collect(simulation, zones)
    zones.label_all()
    summary = simulation.summary
    zone = ZoneInfo(campaign.timezone)
    first = start if start is not None else _default_start(campaign)
    day0 = _local_day(first, zone)
    if day0 == LAST_DAY:  # the range starts at or past the last day drawn
        first = max(min(first, _local_midnight(LAST_DAY, zone)), _local_midnight(FIRST_DAY, zone))
    last = date.fromordinal(min(day0.toordinal() + days - 1, LAST_DAY.toordinal()))
    end = _local_midnight(last + timedelta(days=1), zone)
    customers_read = (
        summary.reached
        + summary.not_reached
        + summary.unscheduled
        + summary.cancelled
        + summary.pending
    )
    charts: list[Chart] = [
        _calling_week(campaign, zones, first),
        _windows_chart(campaign, first, end),
    ]
    charts += _run_charts(campaign, calls, summary, customers_read, zones.zone_of)
    rules = _rules_chart(campaign, zones, customers_read, _cutting(zones, calls, first))
    if rules is not None:
        charts.append(rules)
    return Report(
        campaign, first, end, summary, customers_read, tuple(charts), tuple(calls.zone_names)
    )


def labelled(campaign: Campaign, customers: Iterable[object] | None) -> Iterable[object]:
    """``customers`` wrapped so that :func:`build` knows each one's zone: give the
    wrapper to ``simulate`` and the same wrapper to :func:`build` as ``customers``."""
    return _Zones(campaign, customers)


def figures(
    campaign: Campaign,
    simulation: Simulation,
    *,
    customers: Iterable[object] | None = None,
    start: datetime | None = None,
    days: int = 14,
) -> list[Chart]:
    """The report's charts (see :func:`build`), for a notebook: ``chart.figure`` is a
    matplotlib Figure (None, with ``chart.message``, when there is nothing to draw)."""
    return list(build(campaign, simulation, customers=customers, start=start, days=days).charts)


def _default_start(campaign: Campaign) -> datetime:
    zone = ZoneInfo(campaign.timezone)
    if campaign.start_at is not None:
        return campaign.start_at.astimezone(UTC)
    if campaign.start_date is not None:
        return _local_midnight(min(max(campaign.start_date, FIRST_DAY), LAST_DAY), zone)
    now = datetime.now(UTC).replace(microsecond=0)
    return now


def _local_day(t: datetime, zone: ZoneInfo) -> date:
    """``t``'s local date, held to FIRST_DAY..LAST_DAY."""
    if t < datetime(1, 1, 3, tzinfo=UTC):
        return FIRST_DAY
    if t >= datetime(9999, 12, 28, tzinfo=UTC):
        return LAST_DAY
    return min(max(t.astimezone(zone).date(), FIRST_DAY), LAST_DAY)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``zone`` (where a clock change skips midnight,
    the instant the clocks land)."""
    wall = datetime.combine(day, datetime.min.time())
    for fold in (0, 1):
        t = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        if t.astimezone(zone).replace(tzinfo=None) == wall:
            return t
    # midnight skipped: the clocks jumped over it; the jump lands at the instant
    # whose wall clock is the first on this day
    t = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    while t.astimezone(zone).date() >= day:
        t -= timedelta(minutes=15)
    while t.astimezone(zone).date() < day:
        t += timedelta(seconds=1)
    return t


def _zone_text(zone: str) -> str:
    return "UTC" if zone in ("UTC", "Etc/UTC") else zone


# -- drawing helpers -------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    _matplotlib()
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _style(ax: Axes, title: str, xlabel: str, ylabel: str) -> None:
    from matplotlib.ticker import FixedLocator, MaxNLocator

    if not isinstance(ax.yaxis.get_major_locator(), FixedLocator):  # rows keep their names
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: whole numbers
    ax.set_title(title, loc="left", fontsize=11)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, axis="both", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _hours_axis(ax: Axes, low: float, high: float) -> None:
    ax.set_xlim(low, high)
    step = 6 if high - low <= 30 else 12
    first = math.floor(low / step) * step
    ticks = [t for t in range(first, math.ceil(high) + 1, step) if low <= t <= high]
    # +1: the next day, -1: the day before (UTC beside a local day east of it)
    ax.set_xticks(ticks, [f"{t % 24:02d}:00" + (f"{t // 24:+d}" if t // 24 else "") for t in ticks])


# -- 1. the calling week ------------------------------------------------------------------


def _calling_week(campaign: Campaign, zones: _Zones, start: datetime) -> Chart:
    zone = ZoneInfo(campaign.timezone)
    day0 = min(_local_day(start, zone), LAST_DAY - timedelta(days=6))
    begin = _local_midnight(day0, zone)
    finish = _local_midnight(day0 + timedelta(days=7), zone)
    rows: list[tuple[str, list[tuple[float, float]]]] = []
    base = list(campaign.windows(begin, finish))
    rows.append((f"{_zone_text(campaign.timezone)} (campaign)", _week_spans(base, zone, day0)))
    labels = sorted(zones.sample)
    shown = [lb for lb in labels if lb != campaign.timezone or campaign.per_customer]
    for label in shown[:MAX_ZONE_ROWS]:
        view = campaign.view_for(zones.sample[label])
        rows.append((f"customers in {label}", _week_spans(view.windows(begin, finish), zone, day0)))
    key, title = "calling-week", "The calling week"
    hours = sum(b - a for _, spans in rows[:1] for a, b in spans)
    if not any(spans for _, spans in rows):
        return Chart(
            key,
            title,
            "No callable time in the week",
            message=f"No callable time in the 7 days from {day0.isoformat()} "
            f"({_zone_text(campaign.timezone)}): no chart to draw.",
        )
    fig = _figure(10, 1.2 + 0.38 * len(rows))
    ax = fig.add_subplot()
    for y, (_, spans) in enumerate(rows):
        color = PALETTE[0] if y == 0 else PALETTE[2]
        ax.broken_barh([(a, b - a) for a, b in spans], (y - 0.35, 0.7), color=color)
    ax.set_yticks(range(len(rows)), [name for name, _ in rows])
    ax.invert_yaxis()
    ax.set_xlim(0, 7 * 24)
    days = [day0 + timedelta(days=i) for i in range(7)]
    ax.set_xticks(
        [12 + 24 * i for i in range(7)],
        [f"{_WEEKDAYS[d.weekday()]} {d.isoformat()[5:]}" for d in days],
    )
    ax.set_xticks([24 * i for i in range(8)], minor=True)
    ax.grid(True, axis="x", which="minor", color="#999999", linewidth=0.8)
    ax.tick_params(axis="x", which="major", length=0)
    zone_name = _zone_text(campaign.timezone)
    _style(
        ax,
        f"Callable hours in the week from {day0.isoformat()}, "
        f"on the campaign's clock ({zone_name})",
        f"local day and time in {zone_name} (each day 00:00-24:00)",
        "",
    )
    ax.grid(False, axis="x", which="major")
    extra = "" if len(shown) <= MAX_ZONE_ROWS else f"; {len(shown) - MAX_ZONE_ROWS} more not shown"
    description = (
        f"Callable hours in the 7 days from {day0.isoformat()} in {zone_name} time: "
        f"the campaign {hours:.1f} h"
        + "".join(
            f"; {name} {sum(b - a for a, b in spans):.1f} h"
            + (f" from {_clock(spans[0][0])}" if spans else "")
            for name, spans in rows[1:]
        )
        + extra
    )
    return Chart(key, title, description, fig)


def _clock(hours: float) -> str:
    day, rest = divmod(hours, 24)
    minutes = round(rest * 60)
    return f"{_WEEKDAYS[int(day) % 7]} {minutes // 60:02d}:{minutes % 60:02d}"


def _week_spans(windows: Iterable[Any], zone: ZoneInfo, day0: date) -> list[tuple[float, float]]:
    """Windows as hours from ``day0`` 00:00 on the wall clock of ``zone``."""

    def hours(t: datetime) -> float:
        local = t.astimezone(zone)
        return (
            (local.date() - day0).days * 24 + local.hour + local.minute / 60 + local.second / 3600
        )

    spans = []
    for w in windows:
        a, b = hours(w.start), hours(w.end)
        if b <= a:  # a fall-back hour: the wall clock ran back inside the window
            b = a + w.duration.total_seconds() / 3600
        spans.append((max(a, 0.0), min(b, 168.0)))
    return spans


# -- 2. the windows over the range -----------------------------------------------------


def _windows_chart(campaign: Campaign, start: datetime, end: datetime) -> Chart:
    zone = ZoneInfo(campaign.timezone)
    zone_name = _zone_text(campaign.timezone)
    key, title = "windows", "The calling windows over the range"
    windows = list(campaign.windows(start, end))
    first_day = _local_day(start, zone)
    last_day = _local_day(end - timedelta(seconds=1), zone)
    removed = removed_days(campaign, first_day, last_day)
    span_text = f"{first_day.isoformat()} to {last_day.isoformat()} ({zone_name})"
    if not windows:
        extra = "".join(f"; {d.isoformat()} {note}" for d, note in removed[:5])
        return Chart(
            key,
            title,
            f"No callable time from {span_text}",
            message=f"No callable time from {span_text}: the campaign places no call in this "
            f"range{extra}.",
        )
    changes = _clock_changes(zone, first_day, last_day)
    ndays = (last_day - first_day).days + 1
    if ndays > MAX_WINDOW_ROWS:
        return _callable_per_day(key, title, windows, zone, zone_name, span_text, changes)
    fig = _figure(10, 1.6 + 0.3 * ndays)
    local_ax, utc_ax = fig.subplots(1, 2, sharey=True)
    by_day: dict[date, list[Any]] = {}
    for w in windows:
        by_day.setdefault(w.day, []).append(w)
    low_l, high_l = 0.0, 24.0  # the local day, and what an overnight window adds
    low_u, high_u = math.inf, -math.inf
    notes: list[str] = []
    for w in windows:
        y = (w.day - first_day).days
        local_a = _day_hours(w.start.astimezone(zone), w.day)
        local_b = local_a + w.duration.total_seconds() / 3600
        utc_a = _day_hours(w.start.astimezone(UTC), w.day)
        utc_b = utc_a + w.duration.total_seconds() / 3600
        note = window_note(campaign, w, zone)
        color = PALETTE[3] if note else PALETTE[0]
        local_ax.broken_barh([(local_a, local_b - local_a)], (y - 0.35, 0.7), color=color)
        utc_ax.broken_barh([(utc_a, utc_b - utc_a)], (y - 0.35, 0.7), color=color)
        low_l, high_l = min(low_l, local_a), max(high_l, local_b)
        low_u, high_u = min(low_u, utc_a), max(high_u, utc_b)
        if note:
            notes.append(f"{w.day.isoformat()}: {note}")
    labels = []
    for i in range(ndays):
        day = first_day + timedelta(days=i)
        text = f"{_WEEKDAYS[day.weekday()]} {day.isoformat()}"
        if day in changes:
            text += f" ({changes[day]})"
        labels.append(text)
    for day, note in removed:
        y = (day - first_day).days
        local_ax.text(0.2, y, note, va="center", fontsize=8, color=PALETTE[7])
    local_ax.set_yticks(range(ndays), labels)
    local_ax.set_ylim(ndays - 0.5, -0.5)
    _hours_axis(local_ax, math.floor(low_l), math.ceil(high_l))
    # UTC: the hours the windows use, at least a day's width
    low_u = math.floor(low_u / 6) * 6
    _hours_axis(utc_ax, low_u, max(math.ceil(high_u), low_u + 24))
    _style(local_ax, f"Local time ({zone_name})", f"time of day in {zone_name}", "local day")
    _style(utc_ax, "UTC", "time of day in UTC (+1: the next day)", "")
    from matplotlib.patches import Patch

    fig.legend(
        handles=[
            Patch(color=PALETTE[0], label="window"),
            Patch(color=PALETTE[3], label="a window whose length is not its wall-clock length"),
        ],
        loc="outside upper center",
        ncols=2,
        fontsize=8,
        frameon=False,
    )
    total = sum((w.duration for w in windows), timedelta()) / timedelta(hours=1)
    description = (
        f"{len(windows)} calling windows from {span_text}, {total:.1f} callable hours, "
        f"drawn in {zone_name} time and in UTC"
        + "".join(f"; {n}" for n in notes)
        + "".join(f"; {d.isoformat()} {n}" for d, n in removed)
        + "".join(f"; {d.isoformat()} is a {c}" for d, c in changes.items())
    )
    return Chart(key, title, description, fig)


def _day_hours(local: datetime, day: date) -> float:
    return (local.date() - day).days * 24 + local.hour + local.minute / 60 + local.second / 3600


def _clock_changes(zone: ZoneInfo, first: date, last: date) -> dict[date, str]:
    """The local days of ``first..last`` that are not 24 hours long."""
    found: dict[date, str] = {}
    day = first
    a = _local_midnight(day, zone)
    while day <= last:
        following = day + timedelta(days=1)
        b = _local_midnight(following, zone)
        hours = (b - a) / timedelta(hours=1)
        if hours != 24:
            found[day] = f"{hours:g}-hour day"
        day, a = following, b
        if len(found) > 1000:  # a range of centuries: the first thousand are enough
            break
    return found


def _callable_per_day(
    key: str,
    title: str,
    windows: list[Any],
    zone: ZoneInfo,
    zone_name: str,
    span_text: str,
    changes: dict[date, str],
) -> Chart:
    per_day: dict[date, float] = {}
    for w in windows:
        per_day[w.day] = per_day.get(w.day, 0.0) + w.duration.total_seconds() / 3600
    days = sorted(per_day)
    fig = _figure(10, 3.2)
    ax = fig.add_subplot()
    xs = [_mdate_of_day(d) for d in days]
    ax.plot(xs, [per_day[d] for d in days], drawstyle="steps-mid", color=PALETTE[0], lw=1)
    marked = [d for d in changes if d in per_day]
    if marked:
        ax.plot(
            [_mdate_of_day(d) for d in marked],
            [per_day[d] for d in marked],
            "v",
            color=PALETTE[3],
            label="a clock change (23- or 25-hour day)",
            markersize=5,
        )
        ax.legend(fontsize=8, frameon=False)
    _date_axis(ax, None)
    ax.set_ylim(0, max(per_day.values()) * 1.15)
    _style(ax, f"Callable hours per local day ({zone_name})", f"local day ({zone_name})", "hours")
    total = sum(per_day.values())
    description = (
        f"Callable hours per local day from {span_text}: {len(days)} days with windows, "
        f"{total:.1f} hours in all, at most {max(per_day.values()):.2f} hours a day; "
        f"{len(marked)} clock-change days with windows"
    )
    return Chart(key, title, description, fig)


def _mdate_of_day(day: date) -> float:
    return float(day.toordinal() - date(1970, 1, 1).toordinal())


def _mdate(seconds: float) -> float:
    return seconds / 86400.0


def _date_axis(ax: Axes, zone: ZoneInfo | None) -> None:
    """Dates on the x axis, ticked and written on ``zone``'s clock (None: the
    naive dates of local days)."""
    import matplotlib.dates as mdates
    import numpy as np

    # matplotlib's dates run from year 1 to 9999: the axis's margins stay inside them
    low, high = ax.get_xlim()
    first = float(date.min.toordinal() - date(1970, 1, 1).toordinal() + 1)
    last = float(date.max.toordinal() - date(1970, 1, 1).toordinal() - 1)
    low, high = max(low, first), min(high, last)
    if high - low < 1:  # everything on one day at an end: a day's width, inside
        low, high = (high - 1, high) if high >= last else (low, low + 1)
    ax.set_xlim(low, high)
    # Ticks too, on the zone's clock: near the ends matplotlib's locators (a tick
    # on 10000-01-01) and formatters (a date read 14 hours east) leave Python's
    # dates; such ticks go, and evenly spaced ones stand in when none is left.
    inside = (first + 1, last - 1)

    class InRange(mdates.AutoDateLocator):
        def __call__(self) -> Any:
            try:
                found = super().__call__()  # type: ignore[no-untyped-call]
                ticks = [t for t in found if inside[0] <= t <= inside[1]]
            except (OverflowError, ValueError):
                ticks = []
            if not ticks:
                a, b = max(low, inside[0]), min(high, inside[1])
                ticks = [a + (b - a) * k / 4 for k in range(5)] if b > a else [a]
            return np.asarray(ticks)

    locator = InRange(tz=zone, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator, tz=zone)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(formatter)


# -- 3. the run --------------------------------------------------------------------------


def _run_charts(
    campaign: Campaign,
    calls: _Calls,
    summary: Summary,
    customers: int,
    zone_of: Mapping[str, str],
) -> list[Chart]:
    keys = (
        ("dials-by-hour", "Dials by hour of the day"),
        ("lines", "Lines in use"),
        ("progress", "Customers settled over time"),
        ("outcomes", "Attempts by outcome and attempt number"),
        ("zones", "Calls per local day by zone"),
    )
    if not calls.starts:
        why = (
            "no customers: there is nothing to simulate"
            if customers == 0
            else f"no call was placed: all {customers} customers are unscheduled "
            "(the campaign has no callable time for them)"
        )
        return [Chart(k, t, f"{t}: {why}", message=f"{t}: {why}.") for k, t in keys]
    import numpy as np

    starts = np.frombuffer(calls.starts, dtype=np.int64)
    ends = np.frombuffer(calls.ends, dtype=np.int64)
    return [
        _dials_by_hour(campaign, starts),
        _lines(campaign, starts, ends),
        _progress(campaign, calls, starts, ends, summary, customers),
        _outcomes(calls),
        _by_zone(campaign, calls, starts, zone_of),
    ]


def _bin_width(span: int) -> int:
    for width in _NICE_BINS:
        if span / width <= MAX_BINS:
            return width
    return math.ceil(span / MAX_BINS / 86400) * 86400


def _local_fields(starts: Any, zone: ZoneInfo, field: str) -> Any:
    """The local ``field`` (``"hour"`` of the day, or ``"day"``: the date's proleptic
    ordinal, past 9999-12-31 too) of each start (UTC seconds) in ``zone``, exact and
    read once per distinct UTC quarter hour: when both ends of a quarter hour have the
    same offset and the same value, every instant between has it too (no zone changes
    its offset twice within 15 minutes); otherwise each start in it is read alone."""
    import numpy as np

    buckets, inverse = np.unique(starts // 900, return_inverse=True)
    found = np.empty(len(buckets), dtype=np.int64)
    mixed = np.zeros(len(buckets), dtype=bool)
    for i, b in enumerate(buckets.tolist()):
        first, first_offset = _local_field(b * 900, zone, field)
        last, last_offset = _local_field(b * 900 + 899, zone, field)
        found[i] = first
        mixed[i] = first != last or first_offset != last_offset
    out = found[inverse]
    for j in np.flatnonzero(mixed[inverse]).tolist():
        out[j] = _local_field(int(starts[j]), zone, field)[0]
    return out


def _local_field(u: int, zone: ZoneInfo, field: str) -> tuple[int, timedelta | None]:
    """One instant's local hour or day ordinal, and its UTC offset; a wall clock past
    the years 1-9999 is read 400 years nearer (notes.local) and its ordinal moved back."""
    shift, local = notes_local(_EPOCH + timedelta(seconds=u), zone)
    if field == "hour":
        return local.hour, local.utcoffset()
    return local.toordinal() + shift // 400 * 146097, local.utcoffset()


def _local_hours(starts: Any, zone: ZoneInfo) -> Any:
    return _local_fields(starts, zone, "hour")


def _local_ordinals(starts: Any, zone: ZoneInfo) -> Any:
    return _local_fields(starts, zone, "day")


def _dials_by_hour(campaign: Campaign, starts: Any) -> Chart:
    import numpy as np

    zone = ZoneInfo(campaign.timezone)
    zone_name = _zone_text(campaign.timezone)
    local = np.bincount(_local_hours(starts, zone), minlength=24)
    utc = np.bincount((starts // 3600) % 24, minlength=24)
    fig = _figure(10, 3.2)
    local_ax, utc_ax = fig.subplots(1, 2, sharey=True)
    hours = np.arange(24)
    local_ax.bar(hours, local, width=0.85, color=PALETTE[0])
    utc_ax.bar(hours, utc, width=0.85, color=PALETTE[1])
    for ax, name in ((local_ax, zone_name), (utc_ax, "UTC")):
        ax.set_xticks(range(0, 24, 3), [f"{h:02d}:00" for h in range(0, 24, 3)])
        _style(ax, f"Dials by hour of the day ({name})", f"hour of the day in {name}", "")
    local_ax.set_ylabel("dials (calls started)")
    busiest = int(np.argmax(local))
    description = (
        f"{len(starts)} dials by the hour they started: busiest hour {busiest:02d}:00 "
        f"{zone_name} ({int(local[busiest])} dials), {int(np.argmax(utc)):02d}:00 UTC"
    )
    return Chart("dials-by-hour", "Dials by hour of the day", description, fig)


def _lines(campaign: Campaign, starts: Any, ends: Any) -> Chart:
    import numpy as np

    zone = ZoneInfo(campaign.timezone)
    zone_name = _zone_text(campaign.timezone)
    first, last = int(starts[0]), int(ends.max())
    width = _bin_width(max(last - first, 1))
    edges = np.arange(first - first % width, last + width, width, dtype=np.int64)
    sorted_ends = np.sort(ends)
    # calls in progress just after each start: started at or before it, not yet ended
    ongoing = np.searchsorted(starts, starts, "right") - np.searchsorted(
        sorted_ends, starts, "right"
    )
    at_edges = np.searchsorted(starts, edges[:-1], "right") - np.searchsorted(
        sorted_ends, edges[:-1], "right"
    )
    peak = at_edges.copy()
    np.maximum.at(peak, (starts - edges[0]) // width, ongoing)
    fig = _figure(10, 3.2)
    ax = fig.add_subplot()
    xs = [_mdate(float(e)) for e in edges]
    ax.stairs(peak, xs, color=PALETTE[0], label="lines in use (most in each bin)", lw=1.2)
    ax.axhline(
        campaign.max_concurrency,
        color=PALETTE[7],
        ls="--",
        lw=1,
        label=f"maxConcurrency ({campaign.max_concurrency})",
    )
    ax.set_ylim(0, campaign.max_concurrency * 1.15 + 0.5)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    _date_axis(ax, zone)
    _style(
        ax,
        f"Lines in use, the most in each {_duration_text(width)}",
        f"time ({zone_name})",
        "calls in progress",
    )
    description = (
        f"Calls in progress over time against maxConcurrency {campaign.max_concurrency}: "
        f"at most {int(peak.max())} at once (the most in each {_duration_text(width)}, "
        f"{zone_name} time)"
    )
    return Chart("lines", "Lines in use", description, fig)


def _duration_text(seconds: int) -> str:
    if seconds % 86400 == 0:
        n = seconds // 86400
        return "week" if n == 7 else "day" if n == 1 else f"{n} days"
    if seconds % 3600 == 0:
        n = seconds // 3600
        return "hour" if n == 1 else f"{n} hours"
    n = seconds // 60
    return "minute" if n == 1 else f"{n} minutes"


def _progress(
    campaign: Campaign,
    calls: _Calls,
    starts: Any,
    ends: Any,
    summary: Summary,
    customers: int,
) -> Chart:
    import numpy as np

    zone = ZoneInfo(campaign.timezone)
    zone_name = _zone_text(campaign.timezone)
    outcomes = np.frombuffer(calls.outcomes, dtype=np.uint8)
    last = np.frombuffer(calls.last, dtype=np.uint8).astype(bool)
    completed = outcomes == _OUTCOME_CODE[Outcome.COMPLETED]
    reached_at = np.sort(ends[completed])
    failed_at = np.sort(ends[last & ~completed])
    end = int(summary.finished_at.timestamp()) if summary.finished_at else int(ends.max())
    first = int(starts[0])
    width = _bin_width(max(end - first, 1))
    edges = np.arange(first - first % width, end + 2 * width, width, dtype=np.int64)
    reached = np.searchsorted(reached_at, edges, "right")
    failed = np.searchsorted(failed_at, edges, "right")
    # what the end settles: retries the campaign's end cut off, and who was never
    # dialed; from the bin holding the end on, the totals are the summary's
    after = edges + width > end
    failed[after] = summary.not_reached
    reached[after] = summary.reached
    unscheduled = np.where(after, summary.unscheduled, 0)
    fig = _figure(10, 3.4)
    ax = fig.add_subplot()
    xs = [_mdate(float(e)) for e in edges]
    ax.stackplot(
        xs,
        reached,
        failed,
        unscheduled,
        colors=(PALETTE[2], PALETTE[1], PALETTE[4]),
        labels=("reached", "not reached (attempts used up, or cut off by the end)", "unscheduled"),
        step="post",
    )
    ax.axhline(customers, color=PALETTE[7], ls="--", lw=1, label=f"customers ({customers})")
    ax.set_ylim(0, max(customers, 1) * 1.1)
    ax.legend(fontsize=8, frameon=False, loc="upper left")
    _date_axis(ax, zone)
    _style(ax, "Customers settled over time (cumulative)", f"time ({zone_name})", "customers")
    finished = "-" if summary.finished_at is None else _utc_text(summary.finished_at)
    description = (
        f"Of {customers} customers: {summary.reached} reached, {summary.not_reached} not "
        f"reached ({summary.cut_off} cut off by the campaign's end), {summary.unscheduled} "
        f"unscheduled; the run finished at {finished}"
    )
    return Chart("progress", "Customers settled over time", description, fig)


def _utc_text(t: datetime) -> str:
    return t.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _outcomes(calls: _Calls) -> Chart:
    import numpy as np

    outcomes = np.frombuffer(calls.outcomes, dtype=np.uint8)
    numbers = np.frombuffer(calls.numbers, dtype=np.uint16).astype(np.int64)
    top = int(numbers.max())
    present = sorted(set(outcomes.tolist()), key=lambda c: -int((outcomes == c).sum()))
    fig = _figure(10, 3.4)
    ax = fig.add_subplot()
    xs = np.arange(1, top + 1)
    bottom = np.zeros(top, dtype=np.int64)
    parts = []
    for i, code in enumerate(present):
        counts = np.bincount(numbers[outcomes == code], minlength=top + 1)[1:]
        ax.bar(
            xs,
            counts,
            bottom=bottom,
            color=PALETTE[i % 7],
            hatch=HATCHES[(i // 7) % len(HATCHES)],
            edgecolor="white",
            linewidth=0.5,
            label=_OUTCOMES[code].value,
        )
        bottom += counts
        parts.append(f"{_OUTCOMES[code].value} {int(counts.sum())}")
    ax.set_xticks(xs if top <= 20 else np.linspace(1, top, 10).round().astype(int))
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _style(ax, "Attempts by attempt number and outcome", "attempt number", "attempts")
    description = (
        f"{len(outcomes)} attempts by attempt number (1 to {top}) and outcome: " + ", ".join(parts)
    )
    return Chart("outcomes", "Attempts by outcome and attempt number", description, fig)


def _by_zone(campaign: Campaign, calls: _Calls, starts: Any, zone_of: Mapping[str, str]) -> Chart:
    import numpy as np

    zone_codes = np.frombuffer(calls.zones, dtype=np.uint16)
    totals = np.bincount(zone_codes, minlength=len(calls.zone_names))
    order = sorted(range(len(calls.zone_names)), key=lambda i: (-totals[i], calls.zone_names[i]))
    rows = sorted(order[:MAX_ZONE_ROWS], key=lambda i: calls.zone_names[i])
    rest = order[MAX_ZONE_ROWS:]
    per_row: list[tuple[str, Any]] = []
    for code in rows:
        label = calls.zone_names[code]
        zone = ZoneInfo(zone_of.get(label, campaign.timezone))
        per_row.append((label, _local_ordinals(starts[zone_codes == code], zone)))
    if rest:
        mask = np.isin(zone_codes, rest)
        per_row.append(
            (
                f"{len(rest)} other zones (campaign's clock)",
                _local_ordinals(starts[mask], ZoneInfo(campaign.timezone)),
            ),
        )
    # a local date past the calendar's ends (a call within hours of them) has no
    # place on a date axis: counted in the caption instead
    lowest, highest = FIRST_DAY.toordinal() - 2, LAST_DAY.toordinal() + 3
    outside = sum(int(((d < lowest) | (d > highest)).sum()) for _, d in per_row)
    per_row = [(name, d[(d >= lowest) & (d <= highest)]) for name, d in per_row]
    drawn = [d for _, d in per_row if len(d)]
    if not drawn:
        title = "Calls per local day by zone"
        message = f"{title}: every call is on a local date past the calendar's ends"
        return Chart("zones", title, message, message=message + ".")
    low = min(int(d.min()) for d in drawn)
    high = max(int(d.max()) for d in drawn)
    span = high - low + 1
    unit = 1 if span <= 120 else 7 if span <= 7 * 120 else 28
    columns = math.ceil(span / unit)
    grid = np.zeros((len(per_row), columns), dtype=np.int64)
    for r, (_, days) in enumerate(per_row):
        grid[r] = np.bincount((days - low) // unit, minlength=columns)[:columns]
    fig = _figure(10, 1.6 + 0.32 * len(per_row))
    ax = fig.add_subplot()
    epoch = date(1970, 1, 1).toordinal()
    xs = [float(min(low + unit * i, date.max.toordinal()) - epoch) for i in range(columns + 1)]
    mesh = ax.pcolormesh(
        xs, np.arange(len(per_row) + 1) - 0.5, grid, cmap="cividis", shading="flat"
    )
    what = {1: "day", 7: "week", 28: "4 weeks"}[unit]
    fig.colorbar(mesh, ax=ax, label=f"calls per {what}", pad=0.01)
    ax.set_yticks(range(len(per_row)), [name for name, _ in per_row])
    ax.set_ylim(len(per_row) - 0.5, -0.5)
    if unit == 1 and columns <= 16:  # a few days: each one named under its column
        days = [date.fromordinal(min(low + i, date.max.toordinal())) for i in range(columns)]
        ax.set_xticks([x + 0.5 for x in xs[:-1]], [f"{d:%a} {d.isoformat()[5:]}" for d in days])
    else:
        _date_axis(ax, None)
    _style(
        ax,
        f"Calls per local {what}, by the customers' zone",
        f"local date in each row's zone (per {what})",
        "",
    )
    ax.grid(False)
    description = (
        f"Calls per local {what} in {len(per_row)} zone rows, "
        f"{date.fromordinal(low).isoformat()} to {date.fromordinal(high).isoformat()}: "
        + ", ".join(f"{name} {int(grid[r].sum())}" for r, (name, _) in enumerate(per_row))
        + (
            f"; {outside} calls on local dates past the calendar's ends not drawn"
            if outside
            else ""
        )
    )
    return Chart("zones", "Calls per local day by zone", description, fig)


#: How far from the run's first call the page looks for the hours a rule takes away.
CUT_LOOK_DAYS = 366


def _cutting(zones: _Zones, calls: _Calls, first: datetime) -> Counter[str]:
    """How many customers each calling rule takes hours away from: the rule cuts a
    customer's hours when, from the run's first call (else ``first``) to its last end,
    at most :data:`CUT_LOOK_DAYS` days, some second the campaign's own windows allow
    is outside the rule's hours (or on a day it bans) while it is in force."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    begin = min(calls.starts) if calls.starts else (first - epoch) // timedelta(seconds=1)
    end = max(calls.ends) + 1 if calls.ends else begin + 14 * 86400
    end = min(end, begin + CUT_LOOK_DAYS * 86400)
    found: Counter[str] = Counter()
    for key, view in zones.views.items():
        for rule in _rules_cutting(view, begin, end):
            found[rule] += zones.view_counts[key]
    return found


def _rules_cutting(view: RecipientView, begin: int, end: int) -> set[str]:
    """The rules among ``view``'s cuts that take away a second of the campaign's
    windows in ``[begin, end)``."""
    spans = list(view.base.spans(begin, end))
    found: set[str] = set()
    for cut in view.cuts:
        if cut.rule is None or cut.rule in found:
            continue
        for a, b in spans:
            low, high = max(a, cut.since), min(b, cut.until)
            if low < high and not _covers(cut.calendar, low, high):
                found.add(cut.rule)
                break
    return found


def _covers(calendar: Calendar, low: int, high: int) -> bool:
    """Whether ``calendar`` allows every second of ``[low, high)``."""
    x = low
    for a, b in calendar.spans(low, high):
        if a > x:
            return False
        x = max(x, b)
        if x >= high:
            return True
    return x >= high


def _rules_chart(
    campaign: Campaign, zones: _Zones, customers: int, cutting: Counter[str]
) -> Chart | None:
    """How many customers each calling rule and contact limit applies to, and how
    many of them each rule takes hours away from; None when the campaign has
    neither."""
    counts: Counter[str] = Counter(zones.rules)
    for i, limit in enumerate(campaign.contact_limits):
        counts[f"contactLimits.{i}: {limit.describe()}"] = customers
    if campaign.quiet_after_conversation_days is not None:
        days = campaign.quiet_after_conversation_days
        counts[
            f"quietAfterConversationDays: no call on the {days} local days from a conversation"
        ] = customers
    if not counts:
        return None
    import textwrap

    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    fig = _figure(10, 1.2 + 0.45 * len(items))
    ax = fig.add_subplot()
    ys = range(len(items))
    ax.barh(ys, [n for _, n in items], color=PALETTE[4], height=0.6, label="applies to")
    ax.barh(
        ys,
        [cutting.get(text, 0) for text, _ in items],
        color=PALETTE[0],
        height=0.3,
        label="takes hours away from (calling rules)",
    )
    ax.legend(loc="lower right", fontsize=8)
    ax.set_yticks(
        ys, [textwrap.shorten(text, 70, placeholder=" ...") for text, _ in items], fontsize=8
    )
    ax.set_ylim(len(items) - 0.5, -0.5)
    ax.set_xlim(0, max(customers, 1) * 1.05)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    _style(ax, "Customers under each calling rule and contact limit", "customers", "")
    description = (
        "Customers each calling rule and contact limit applies to, and for a calling "
        "rule how many of them it takes hours away from: "
        + "; ".join(
            f"{text}: {n}" + (f" ({cutting[text]} cut)" if text in cutting else "")
            for text, n in items
        )
    )
    return Chart("rules", "Calling rules and contact limits", description, fig)


# -- the page ---------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
margin:2rem auto;max-width:64rem;padding:0 1rem;color:#1a1a1a;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;margin-top:2.2rem;
border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.15rem .7rem;text-align:left;
border-bottom:1px solid #e4e4e4}td.n{text-align:right;font-variant-numeric:tabular-nums}
figure.chart{margin:1.2rem 0;break-inside:avoid}figure.chart svg{width:100%;height:auto;
display:block}figcaption{font-size:.9rem;color:#444}
p.message{border-left:4px solid #D55E00;padding:.6rem 1rem;background:#fbf3ee}
pre{background:#f6f6f6;padding:.8rem;overflow-x:auto;font-size:.8rem}
.meta{color:#555;font-size:.9rem}ul.warnings li{color:#8a3b00}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}}
"""


def _svg(chart: Chart, salt: str) -> str:
    """The chart as inline SVG: text kept as text, ids made unique on the page, and
    the text alternative as ``role="img"``, ``aria-label`` and a ``<title>``."""
    matplotlib = _matplotlib()
    assert chart.figure is not None
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        chart.figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    prefix = f"{chart.key}-"
    text = re.sub(r'\bid="', f'id="{prefix}', text)
    text = re.sub(r"url\(#", f"url(#{prefix}", text)
    text = re.sub(r'xlink:href="#', f'xlink:href="#{prefix}', text)
    label = html.escape(chart.description, quote=True)
    text = re.sub(
        r"<svg ",
        f'<svg role="img" aria-label="{label}" aria-labelledby="{prefix}title" ',
        text,
        count=1,
    )
    head_end = text.index(">") + 1
    title = f'<title id="{prefix}title">{html.escape(chart.title)}: {label}</title>'
    return text[:head_end] + title + text[head_end:]


def to_html(report: Report, command: str | None = None, title: str | None = None) -> str:
    """The report as one self-contained HTML page (UTF-8 text): inline SVG charts and
    CSS, no script, nothing fetched.  ``command``: the command line that made it,
    shown on the page; ``title``: the campaign's name (default "Campaign")."""
    campaign = report.campaign
    summary = report.summary
    esc = html.escape
    zone_name = _zone_text(campaign.timezone)
    version, source = tz_database()
    name = title or "Campaign"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="callslots {esc(_version())}">',
        f"<title>{esc(str(name))}: campaign report</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{esc(str(name))}</h1>",
        f'<p class="meta">Campaign report by callslots {esc(_version())}; zone '
        f"{esc(zone_name)}; windows drawn from {esc(_utc_text(report.start))} to "
        f"{esc(_utc_text(report.end))}.</p>",
        "<h2>Summary of the simulated run</h2>",
        _summary_table(summary, report.customers),
    ]
    sections = {
        "calling-week": "The calling week",
        "windows": "The windows over the range",
        "dials-by-hour": "The simulated run",
        "rules": "Calling rules and contact limits",
    }
    for chart in report.charts:
        if chart.key in sections:
            parts.append(f"<h2>{esc(sections[chart.key])}</h2>")
        parts.append(f'<figure class="chart" id="chart-{esc(chart.key)}">')
        if chart.figure is None:
            parts.append(f'<p class="message" role="status">{esc(chart.message or "")}</p>')
        else:
            parts.append(_svg(chart, chart.key))
            parts.append(f"<figcaption>{esc(chart.description)}</figcaption>")
        parts.append("</figure>")
    parts.append("<h2>Calls per day</h2>")
    parts.append(
        f"<p>By the local date ({esc(zone_name)}) each call started on, as "
        "<code>callslots simulate</code> prints them.</p>"
    )
    days = len(summary.calls_per_day)
    parts.append(f"<details{' open' if days <= 31 else ''}><summary>{days} days</summary>")
    parts.append('<table id="calls-per-day"><thead><tr><th>day</th><th>calls</th></tr></thead>')
    parts.append("<tbody>")
    for day, n in summary.calls_per_day.items():
        parts.append(f'<tr><td>{day.isoformat()}</td><td class="n">{n}</td></tr>')
    parts.append("</tbody></table></details>")
    parts.append("<h2>Settings</h2>")
    if campaign.warnings:
        parts.append('<ul class="warnings">')
        parts += [
            f"<li>{esc(p.path or '(campaign)')}: {esc(p.message)}</li>" for p in campaign.warnings
        ]
        parts.append("</ul>")
    else:
        parts.append("<p>No warnings.</p>")
    packs = []
    if campaign.calling_rules:
        from .rulepack import load_pack

        for pack_name in campaign.calling_rules:
            pack = load_pack(pack_name)
            packs.append(f"{pack.name} version {pack.version}")
    rows = [
        ("callslots", _version()),
        ("tz database", f"{version} ({source})"),
        ("rule packs", ", ".join(packs) or "none"),
        ("command", command or "(from Python)"),
    ]
    parts.append('<table id="versions">')
    parts += [f"<tr><th>{esc(k)}</th><td><code>{esc(v)}</code></td></tr>" for k, v in rows]
    parts.append("</table>")
    settings = campaign.to_dict()
    for key in ("customers", "phoneList"):  # the page stays small: counted, not listed
        if settings.get(key):
            settings[key] = f"({len(settings[key])} listed in the campaign)"
    normalized = json.dumps(settings, indent=2, ensure_ascii=False)
    parts.append("<details><summary>The normalized campaign (JSON)</summary>")
    parts.append(f'<pre id="campaign">{esc(normalized)}</pre></details>')
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _summary_table(summary: Summary, customers: int) -> str:
    finished = "-" if summary.finished_at is None else _utc_text(summary.finished_at)
    rows: list[tuple[str, str, str]] = [
        ("customers", "customers", str(customers)),
        ("finished_at", "finished at (UTC)", finished),
        ("attempts", "attempts", str(summary.attempts)),
        ("reached", "reached", str(summary.reached)),
        ("not_reached", "not reached", str(summary.not_reached)),
        ("cut_off", "of which cut off by the campaign's end", str(summary.cut_off)),
        ("unscheduled", "unscheduled", str(summary.unscheduled)),
        ("repeats", "repeated numbers (dialed once)", str(summary.repeats)),
        (
            "held_by_limits",
            "attempts put back by contact limits (times)",
            str(summary.held_by_limits),
        ),
    ]
    for outcome in Outcome:  # the outcomes that happened; the others are 0
        n = summary.attempts_by_outcome.get(outcome, 0)
        if n:
            rows.append((f"attempts_{outcome.name.lower()}", f"attempts: {outcome.value}", str(n)))
    cells = "".join(
        f'<tr><th>{html.escape(title)}</th><td class="n" data-key="{key}">{html.escape(value)}'
        "</td></tr>"
        for key, title, value in rows
    )
    return f'<table id="summary">{cells}</table>'
