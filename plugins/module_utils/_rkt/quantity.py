# -*- coding: utf-8 -*-
# Copyright: nomad_drivers.rkt contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""CPU and memory quantities for ``rkt run --cpu`` and ``--memory``.

Private module: not part of the collection's public API.

rkt parses both flags as Kubernetes resource quantities and records the
canonical string of the parsed value in the pod manifest. rkt 1.30.0 keeps
``128M``, ``1G``, ``512Mi``, ``250m`` and ``1`` as typed, records
``--cpu=0.5`` as ``500m`` and ``--memory=100000000`` as ``100M``. The
functions here compute that canonical string, so a value the user typed and
the value rkt recorded compare equal exactly when rkt would run the same limit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

# fractions is imported where a quantity string is parsed, not here, because its
# import took about 6 ms per rkt_task run (python -X importtime, see
# docs/performance.md). Nomad's integer cpu and memory values need no fractions.

# The regular expression rkt 1.30.0 prints when it rejects a quantity.
QUANTITY_PATTERN = re.compile(r'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$')

DECIMAL_SUFFIXES = {
    'n': -9, 'u': -6, 'm': -3, '': 0, 'k': 3, 'M': 6, 'G': 9, 'T': 12, 'P': 15, 'E': 18,
}
BINARY_SUFFIXES = {'Ki': 10, 'Mi': 20, 'Gi': 30, 'Ti': 40, 'Pi': 50, 'Ei': 60}

DECIMAL_SUFFIX_BY_EXPONENT = dict((exponent, suffix) for suffix, exponent in DECIMAL_SUFFIXES.items())
BINARY_SUFFIX_BY_EXPONENT = dict((exponent, suffix) for suffix, exponent in BINARY_SUFFIXES.items())

FORMAT_DECIMAL_SI = 'DecimalSI'
FORMAT_BINARY_SI = 'BinarySI'
FORMAT_DECIMAL_EXPONENT = 'DecimalExponent'

# Kubernetes quantities keep at most nano precision and round up beyond it.
NANO_EXPONENT = -9

MEMORY_HINT = 'use a number of MB or a string such as "256M" or "1Gi"'
CPU_HINT = 'use a number of millicores such as 500, or a string such as "500m", "0.5" or "2.0"'

# A number without a unit, also as a string: ad hoc `-a "cpu=500 memory=256"` and
# templated values reach the module as strings, and mean what Nomad's integers mean.
UNITLESS_INTEGER = re.compile(r'^\s*[0-9]+\s*$')


class QuantityError(ValueError):
    """Invalid CPU or memory value; the message names the value and the fix."""


def _split_quantity(text):
    """Return (number, format, scale) of a quantity string, or None when it is no quantity.

    ``scale`` multiplies ``number`` to give the value in base units.
    """
    from fractions import Fraction

    match = QUANTITY_PATTERN.match(text)
    if not match:
        return None

    number_text, suffix = match.group(1), match.group(2)
    try:
        number = Fraction(number_text)
    except ValueError:
        return None

    if suffix in BINARY_SUFFIXES:
        return number, FORMAT_BINARY_SI, Fraction(2) ** BINARY_SUFFIXES[suffix]
    if suffix in DECIMAL_SUFFIXES:
        return number, FORMAT_DECIMAL_SI, Fraction(10) ** DECIMAL_SUFFIXES[suffix]

    exponent_match = re.match(r'^[eE]([-+]?[0-9]+)$', suffix)
    if exponent_match:
        return number, FORMAT_DECIMAL_EXPONENT, Fraction(10) ** int(exponent_match.group(1))
    return None


def _format_decimal(value, quantity_format):
    """Write a positive value (Fraction, base units) with the largest exponent, a multiple of 3, that keeps the mantissa whole."""
    from fractions import Fraction

    if value == 0:
        return '0'

    exponent = 18 if quantity_format == FORMAT_DECIMAL_SI else 30
    while exponent > -9:
        if (value / Fraction(10) ** exponent).denominator == 1:
            break
        exponent -= 3
    mantissa_text = str(int(value / Fraction(10) ** exponent))

    if quantity_format == FORMAT_DECIMAL_EXPONENT:
        return mantissa_text if exponent == 0 else '%se%d' % (mantissa_text, exponent)
    return mantissa_text + DECIMAL_SUFFIX_BY_EXPONENT[exponent]


def _format_whole_count(count, exponent):
    """Write count * 10**exponent base units (count a positive int, exponent a multiple of 3) in canonical DecimalSI form.

    Gives the same text as canonical_quantity for '<count><suffix>', without fractions.
    """
    while count % 1000 == 0 and exponent < DECIMAL_SUFFIXES['E']:
        count //= 1000
        exponent += 3
    return '%d%s' % (count, DECIMAL_SUFFIX_BY_EXPONENT[exponent])


def _format_binary(value):
    """Write a whole number of bytes with the largest binary suffix that divides it."""
    integer = int(value)
    for exponent in (60, 50, 40, 30, 20, 10):
        if integer % (1 << exponent) == 0:
            return '%d%s' % (integer >> exponent, BINARY_SUFFIX_BY_EXPONENT[exponent])
    return str(integer)


def canonical_quantity(text):
    """Return the canonical form of a Kubernetes quantity string, as rkt records it.

    Raise QuantityError when text is not a quantity.
    """
    parts = _split_quantity(text)
    if parts is None:
        raise QuantityError('"%s" is not a quantity' % text)
    number, quantity_format, scale = parts

    # Kubernetes rounds values finer than 1n away from zero to the next nano unit.
    value = number * scale
    nano = scale.__class__(10) ** NANO_EXPONENT
    nanos = value / nano
    if nanos.denominator != 1:
        whole_nanos = math.ceil(nanos) if value > 0 else math.floor(nanos)
        value = whole_nanos * nano

    if quantity_format == FORMAT_BINARY_SI:
        # Kubernetes writes small or fractional binary values in decimal form.
        if -1024 < value < 1024 or value.denominator != 1:
            return _format_decimal(value, FORMAT_DECIMAL_SI)
        if value < 0:
            return '-' + _format_binary(-value)
        return _format_binary(value)

    if value < 0:
        return '-' + _format_decimal(-value, quantity_format)
    return _format_decimal(value, quantity_format)


def quantity_value(text):
    """Return the exact value of a quantity string in base units (bytes, or CPUs) as a Fraction."""
    parts = _split_quantity(text)
    if parts is None:
        raise QuantityError('"%s" is not a quantity' % text)
    number, dummy_format, scale = parts
    return number * scale


def _reject_non_integer_number(name, value, hint):
    if isinstance(value, bool):
        raise QuantityError('%s %r is a boolean; %s' % (name, value, hint))
    if isinstance(value, float):
        raise QuantityError('%s %r is a YAML number with a fraction, which is ambiguous; quote it as a string, '
                            'or %s' % (name, value, hint))


def normalize_cpu(value):
    """Return the canonical rkt ``--cpu`` quantity for the user's cpu value, or None when value is None.

    An integer, or a string of digits, is millicores, as Nomad's ``cpu`` (500 and
    ``"500"`` give ``500m``). Any other string is a quantity in CPUs: ``"500m"``,
    ``"0.5"``, ``"2.0"``.
    """
    if value is None:
        return None
    _reject_non_integer_number('cpu', value, CPU_HINT)

    if isinstance(value, str) and UNITLESS_INTEGER.match(value):
        value = int(value)

    if isinstance(value, int):
        if value > 0:
            return _format_whole_count(value, DECIMAL_SUFFIXES['m'])
        text = '%dm' % value
    else:
        text = str(value).strip()

    try:
        canonical = canonical_quantity(text)
    except QuantityError:
        raise QuantityError('cpu "%s" is not a quantity; %s' % (value, CPU_HINT))

    # rkt 1.30.0 accepts --cpu=0 and --cpu=-1 and runs without a CPU limit, so a zero or
    # negative limit is almost certainly a typo.
    if quantity_value(text) <= 0:
        raise QuantityError('cpu "%s" must be greater than zero; %s' % (value, CPU_HINT))
    return canonical


def normalize_memory(value):
    """Return the canonical rkt ``--memory`` quantity for the user's memory value, or None when value is None.

    An integer, or a string of digits, is megabytes (10^6 bytes), as Nomad's ``memory``
    (256 and ``"256"`` give ``256M``). Any other string is a quantity with a unit:
    ``"256M"``, ``"1G"``, ``"512Mi"``.
    """
    if value is None:
        return None
    _reject_non_integer_number('memory', value, MEMORY_HINT)

    if isinstance(value, str) and UNITLESS_INTEGER.match(value):
        value = int(value)

    if isinstance(value, int):
        if value > 0:
            return _format_whole_count(value, DECIMAL_SUFFIXES['M'])
        text = '%dM' % value
    else:
        text = str(value).strip()

    try:
        canonical = canonical_quantity(text)
    except QuantityError:
        raise QuantityError('memory "%s" is not a quantity; %s' % (value, MEMORY_HINT))

    # rkt 1.30.0 rejects 0 and negative values: "memory limit of 0 bytes too low".
    if quantity_value(text) < 1:
        raise QuantityError('memory "%s" must be at least one byte, because rkt rejects smaller limits; %s' % (value, MEMORY_HINT))
    return canonical
