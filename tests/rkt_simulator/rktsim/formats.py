"""Output encodings that rkt gets from Go libraries.

JSON comes from encoding/json, tables from text/tabwriter, relative times and
sizes from go-humanize and byte counts from mitchellh/ioprogress; the
functions here reproduce their output for the values rkt prints.
"""

import json
import math
import time


def go_json(value, pretty=False):
    """Encode VALUE like Go's json.Marshal, or json.MarshalIndent with a tab."""
    if pretty:
        text = json.dumps(value, ensure_ascii=False, indent="\t", separators=(",", ": "))
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    # encoding/json escapes HTML-sensitive characters; they only occur inside
    # strings, so a plain replacement is exact.
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def tabwriter(rows, padding=1, tabwidth=8):
    """Align ROWS like Go's tabwriter.NewWriter(out, 0, 8, padding, '\\t', 0).

    Each row is a list of cells; every cell but the last is tab-terminated and
    padded with tabs to the column width, the last cell is written as is.
    Returns the text with one line per row.
    """
    columns = max((len(row) - 1 for row in rows), default=0)
    widths = []
    for column in range(columns):
        width = 0
        for row in rows:
            if column < len(row) - 1:
                width = max(width, len(row[column]) + padding)
        widths.append((width + tabwidth - 1) // tabwidth * tabwidth)

    lines = []
    for row in rows:
        parts = []
        for column, cell in enumerate(row[:-1]):
            fill = widths[column] - len(cell)
            parts.append(cell + "\t" * ((fill + tabwidth - 1) // tabwidth))
        parts.append(row[-1] if row else "")
        lines.append("".join(parts) + "\n")
    return "".join(lines)


def go_time(ns):
    """Format nanoseconds since the epoch like Go's time.Time.String() in UTC.

    rkt prints "2006-01-02 15:04:05.999 -0700 MST": milliseconds with the
    trailing zeros removed, no fraction at all when it is zero.
    """
    seconds, rest = divmod(int(ns), 1_000_000_000)
    text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))
    millis = ("%03d" % (rest // 1_000_000)).rstrip("0")
    if millis:
        text += "." + millis
    return text + " +0000 UTC"


def relative_time(ns, now_ns=None):
    """Describe how long ago NS was, like go-humanize's Time()."""
    now_ns = time.time_ns() if now_ns is None else now_ns
    delta = (now_ns - int(ns)) / 1e9
    suffix = "ago"
    if delta < 0:
        delta = -delta
        suffix = "from now"

    minute, hour, day = 60, 3600, 86400
    week, month, year = 7 * day, 30 * day, 12 * 30 * day
    steps = [
        (1, "now", None),
        (2, "1 second %s", None),
        (minute, "%d seconds %s", 1),
        (2 * minute, "1 minute %s", None),
        (hour, "%d minutes %s", minute),
        (2 * hour, "1 hour %s", None),
        (day, "%d hours %s", hour),
        (2 * day, "1 day %s", None),
        (week, "%d days %s", day),
        (2 * week, "1 week %s", None),
        (month, "%d weeks %s", week),
        (2 * month, "1 month %s", None),
        (year, "%d months %s", month),
        (18 * month, "1 year %s", None),
        (2 * year, "2 years %s", None),
        (37 * year, "%d years %s", year),
    ]
    for limit, template, unit in steps:
        if delta < limit:
            if template == "now":
                return "now"
            if unit is None:
                return template % suffix
            return template % (int(delta // unit), suffix)
    return "a long while %s" % suffix


def binary_size(size):
    """Format SIZE bytes like go-humanize IBytes without the space ("1.9MiB")."""
    if size < 10:
        return "%dB" % size
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    exponent = int(math.floor(math.log(size) / math.log(1024)))
    value = math.floor(size / (1024 ** exponent) * 10 + 0.5) / 10
    pattern = "%.1f%s" if value < 10 else "%.0f%s"
    return pattern % (value, units[exponent])


def progress_bytes(count):
    """Format COUNT like ioprogress's byteUnitStr ("0 B", "32.8 KB", "2 MB")."""
    size = float(count)
    units = ["B", "KB", "MB", "GB", "TB", "PB"]
    unit = units[-1]
    for index in range(1, len(units)):
        if size < 1000:
            unit = units[index - 1]
            break
        size = size / 1000
    return "%s %s" % (_go_g3(size), unit)


def _go_g3(value):
    """Format VALUE like Go's %.3g."""
    return "%.3g" % value


def parse_go_duration(text):
    """Parse a Go duration ("30m", "1h30m", "0s", "0") into seconds.

    Raises ValueError with Go's time.ParseDuration message.
    """
    units = {"ns": 1e-9, "us": 1e-6, "\u00b5s": 1e-6, "\u03bcs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
    original = text
    sign = 1.0
    if text[:1] in "+-" and text:
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:]
    if text == "0":
        return 0.0
    if not text:
        raise ValueError('time: invalid duration "%s"' % original)

    total = 0.0
    while text:
        index = 0
        while index < len(text) and (text[index].isdigit() or text[index] == "."):
            index += 1
        number = text[:index]
        if not number or number == ".":
            raise ValueError('time: invalid duration "%s"' % original)
        text = text[index:]
        index = 0
        while index < len(text) and not (text[index].isdigit() or text[index] == "."):
            index += 1
        unit = text[:index]
        text = text[index:]
        if not unit:
            raise ValueError('time: missing unit in duration "%s"' % original)
        if unit not in units:
            raise ValueError('time: unknown unit "%s" in duration "%s"' % (unit, original))
        total += float(number) * units[unit]
    return sign * total


def go_duration_string(seconds):
    """Format SECONDS like Go's time.Duration.String() for whole seconds ("30m0s")."""
    if seconds == 0:
        return "0s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%dh%dm%ds" % (hours, minutes, secs)
    if minutes:
        return "%dm%ds" % (minutes, secs)
    return "%ds" % secs
