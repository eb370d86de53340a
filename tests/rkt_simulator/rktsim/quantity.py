"""Kubernetes resource quantities as rkt 1.30.0 parses --memory and --cpu.

rkt hands the flag value to appc's NewResourceMemoryIsolator /
NewResourceCPUIsolator, which parse it with Kubernetes' resource.Quantity and
store the canonical String() form as request and limit. The canonical form is
the shortest whole-number mantissa with the original suffix family: binary
(Ki, Mi, ...) when it divides exactly, otherwise decimal (m, k, M, G, ...).
"""

import math
import re
from fractions import Fraction

QUANTITY_PATTERN = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"

DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
DECIMAL_BY_EXPONENT = {exponent: suffix for suffix, exponent in DECIMAL_SUFFIXES.items()}
BINARY_BY_EXPONENT = {0: "", 10: "Ki", 20: "Mi", 30: "Gi", 40: "Ti", 50: "Pi", 60: "Ei"}

# rkt rejects memory limits below 4 KiB as a likely unit mistake (--memory=16m
# means 16 millibytes).
MIN_MEMORY_BYTES = 4096


class Quantity:
    """An exact quantity VALUE (a Fraction) and the suffix FORMAT it was written in."""

    def __init__(self, value, format_name):
        self.value = value
        self.format = format_name

    def rounded_value(self):
        """Return the value rounded up to an integer, like Quantity.Value()."""
        return math.ceil(self.value)

    def canonical(self):
        """Return Kubernetes' canonical string for the quantity ("100M", "500m", "512Mi")."""
        value = self.value
        sign = "-" if value < 0 else ""
        magnitude = -value if value < 0 else value
        format_name = self.format
        if format_name == "binary" and magnitude < 1024:
            format_name = "decimal"
        if format_name == "binary" and magnitude.denominator != 1:
            format_name = "decimal"

        if format_name == "binary":
            number = int(magnitude)
            exponent = 0
            while exponent < 60 and number % 1024 == 0 and number != 0:
                number //= 1024
                exponent += 10
            return "%s%d%s" % (sign, number, BINARY_BY_EXPONENT[exponent])

        if magnitude == 0:
            return "0"
        exponent = -9
        mantissa = magnitude * Fraction(10) ** 9
        # Round up to nano units first, like resource.Quantity does.
        mantissa = Fraction(math.ceil(mantissa))
        while mantissa % 1000 == 0 and (format_name == "exponent" or exponent < 18):
            mantissa /= 1000
            exponent += 3
        if format_name == "exponent":
            suffix = "" if exponent == 0 else "e%d" % exponent
        else:
            suffix = DECIMAL_BY_EXPONENT[exponent]
        return "%s%d%s" % (sign, int(mantissa), suffix)


def parse_quantity(text):
    """Parse TEXT into a Quantity; raise ValueError with the Kubernetes message."""
    match = re.match(QUANTITY_PATTERN, text)
    if match is None:
        raise ValueError("quantities must match the regular expression '%s'" % QUANTITY_PATTERN)
    number, suffix = match.groups()
    try:
        mantissa = Fraction(number)
    except ValueError:
        raise ValueError("quantities must match the regular expression '%s'" % QUANTITY_PATTERN)

    if suffix in DECIMAL_SUFFIXES:
        return Quantity(mantissa * Fraction(10) ** DECIMAL_SUFFIXES[suffix], "decimal")
    if suffix in BINARY_SUFFIXES:
        return Quantity(mantissa * 2 ** BINARY_SUFFIXES[suffix], "binary")
    exponent_match = re.match(r"^[eE]([-+]?[0-9]+)$", suffix)
    if exponent_match:
        return Quantity(mantissa * Fraction(10) ** int(exponent_match.group(1)), "exponent")
    raise ValueError("unable to parse quantity's suffix")


def parse_memory(text):
    """Validate a --memory value; return its canonical string.

    Raises ValueError with rkt's message ("error parsing request: ..." or
    "memory limit of N bytes too low ...").
    """
    try:
        quantity = parse_quantity(text)
    except ValueError as error:
        raise ValueError("error parsing request: %s" % error)
    if quantity.rounded_value() < MIN_MEMORY_BYTES:
        raise ValueError("memory limit of %d bytes too low. Try a reasonable value, such as --memory=16M"
                         % quantity.rounded_value())
    return quantity.canonical()


def parse_cpu(text):
    """Validate a --cpu value; return its canonical string (0 and negatives are accepted)."""
    try:
        quantity = parse_quantity(text)
    except ValueError as error:
        raise ValueError("error parsing request: %s" % error)
    return quantity.canonical()
