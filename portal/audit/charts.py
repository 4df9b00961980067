"""Geometry for the access-log pictures, drawn as server-side SVG (no script, no style).

The functions here only compute numbers; ``templates/audit/_daily_chart.html``
and ``_timeline.html`` turn them into SVG elements with presentation
attributes, which the strict Content-Security-Policy allows. Each picture has
a text alternative: the table on the same page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

WIDTH = 720
PLOT_LEFT = 48
PLOT_RIGHT = 12
PLOT_TOP = 12
BAR_AREA = 160
ROW_HEIGHT = 28
LABEL_WIDTH = 200


@dataclass(frozen=True)
class DayCount:
    day: date
    allowed: int  # allowed, without the safety exception
    break_glass: int  # allowed under the safety exception
    denied: int

    @property
    def total(self) -> int:
        return self.allowed + self.break_glass + self.denied


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # allowed / break_glass / denied
    count: int
    day: date


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class DailyChart:
    width: int
    height: int
    bars: Sequence[Bar]
    y_ticks: Sequence[Tick]
    x_ticks: Sequence[Tick]
    baseline: float
    maximum: int


def daily_chart(days: Sequence[DayCount]) -> DailyChart:
    """Stacked bars per day: allowed, then break-glass, then denied on top."""
    maximum = max((d.total for d in days), default=0)
    scale = BAR_AREA / maximum if maximum else 0.0
    baseline = PLOT_TOP + BAR_AREA
    step = (WIDTH - PLOT_LEFT - PLOT_RIGHT) / max(len(days), 1)
    bar_width = max(step * 0.8, 1.0)
    bars: list[Bar] = []
    for index, day in enumerate(days):
        x = PLOT_LEFT + index * step + (step - bar_width) / 2
        top: float = baseline
        for kind, count in (("allowed", day.allowed), ("break_glass", day.break_glass),
                            ("denied", day.denied)):
            if count:
                height = count * scale
                top -= height
                bars.append(Bar(round(x, 1), round(top, 1), round(bar_width, 1),
                                round(height, 1), kind, count, day.day))
    y_ticks = [Tick(round(baseline - value * scale, 1), str(value))
               for value in sorted({0, maximum // 2, maximum})] if maximum else [
                   Tick(baseline, "0")]
    every = max(1, len(days) // 6)
    x_ticks = [Tick(round(PLOT_LEFT + i * step + step / 2, 1), d.day.strftime("%d-%m"))
               for i, d in enumerate(days) if i % every == 0]
    return DailyChart(WIDTH, int(baseline + 28), bars, y_ticks, x_ticks, baseline, maximum)


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    kind: str  # allowed / break_glass / denied
    when: datetime
    label: str


@dataclass(frozen=True)
class TimelineRow:
    label: str
    y: float


@dataclass(frozen=True)
class Timeline:
    title: str
    width: int
    height: int
    rows: Sequence[TimelineRow]
    marks: Sequence[Mark]
    x_ticks: Sequence[Tick]
    plot_left: int
    plot_right: int


@dataclass(frozen=True)
class Access:
    when: datetime
    organisation: str
    kind: str  # allowed / break_glass / denied
    label: str


def timeline(title: str, accesses: Sequence[Access], start: datetime,
             end: datetime) -> Timeline:
    """One row per organisation, one mark per access along the period's time axis."""
    organisations = sorted({a.organisation for a in accesses})
    rows = [TimelineRow(name, PLOT_TOP + index * ROW_HEIGHT + ROW_HEIGHT / 2)
            for index, name in enumerate(organisations)]
    row_y = {row.label: row.y for row in rows}
    left, right = LABEL_WIDTH, WIDTH - PLOT_RIGHT
    span = max((end - start).total_seconds(), 1.0)

    def x_of(moment: datetime) -> float:
        fraction = min(max((moment - start).total_seconds() / span, 0.0), 1.0)
        return round(left + fraction * (right - left), 1)

    marks = [Mark(x_of(a.when), row_y[a.organisation], a.kind, a.when, a.label)
             for a in accesses]
    height = PLOT_TOP + len(rows) * ROW_HEIGHT
    # ``end`` is exclusive (the start of the day after the period).
    last = end - timedelta(seconds=1)
    ticks = [Tick(x_of(start), start.strftime("%d-%m-%Y")),
             Tick(x_of(end), last.strftime("%d-%m-%Y"))]
    return Timeline(title, WIDTH, height + 28, rows, marks, ticks, left, right)
