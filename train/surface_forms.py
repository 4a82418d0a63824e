"""How a user writes a value that a tool wants in canonical form.

Tools want ISO dates, currency and country codes, unit symbols, enum members and
booleans; users write "10th December 2022", "dollars", "California", "kilometers",
"yes". A current model's most common mistake on BFCL (``value_error:string``) is to copy
the user's form into the call. :func:`surface_forms` renders a canonical value the way a
user would write it, so that :mod:`train.corruptions` can make that mistake on training
data whose ground truth holds the canonical value.

The tables are generic vocabulary (ISO 4217 / 3166 codes, SI units, US states), not
fitted to any benchmark question.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["surface_forms"]

_MONTHS = (
    "January February March April May June July August September October November December"
).split()

CURRENCIES: dict[str, tuple[str, ...]] = {
    "USD": ("dollars", "US dollars", "$"), "EUR": ("euros", "euro", "€"), "GBP": ("pounds", "British pounds", "£"),
    "JPY": ("yen", "Japanese yen"), "INR": ("rupees", "Indian rupees"), "CNY": ("yuan", "Chinese yuan"),
    "CAD": ("Canadian dollars",), "AUD": ("Australian dollars",), "CHF": ("Swiss francs", "francs"),
    "MXN": ("pesos", "Mexican pesos"), "KRW": ("won", "Korean won"), "BRL": ("reais", "Brazilian real"),
    "RUB": ("rubles",), "SEK": ("Swedish kronor",), "SGD": ("Singapore dollars",), "HKD": ("Hong Kong dollars",),
    "BTC": ("bitcoin",), "ETH": ("ether", "ethereum"),
}
COUNTRIES: dict[str, tuple[str, ...]] = {
    "US": ("United States", "USA", "America"), "USA": ("United States", "America"),
    "UK": ("United Kingdom", "Britain"), "GB": ("Great Britain", "United Kingdom"), "FR": ("France",),
    "DE": ("Germany",), "IN": ("India",), "CN": ("China",), "JP": ("Japan",), "CA": ("Canada",),
    "AU": ("Australia",), "ES": ("Spain",), "IT": ("Italy",), "BR": ("Brazil",), "MX": ("Mexico",),
    "KR": ("South Korea", "Korea"), "NL": ("the Netherlands", "Holland"), "SE": ("Sweden",),
    "CH": ("Switzerland",), "RU": ("Russia",), "ZA": ("South Africa",), "NZ": ("New Zealand",),
}
US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California", "CO": "Colorado",
    "CT": "Connecticut", "DE": "Delaware", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho",
    "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York", "NC": "North Carolina",
    "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas",
    "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
    "WI": "Wisconsin", "WY": "Wyoming", "DC": "Washington D.C.",
}
LANGUAGES: dict[str, tuple[str, ...]] = {
    "en": ("English",), "fr": ("French",), "es": ("Spanish",), "de": ("German",), "it": ("Italian",),
    "zh": ("Chinese", "Mandarin"), "ja": ("Japanese",), "ko": ("Korean",), "pt": ("Portuguese",),
    "ru": ("Russian",), "ar": ("Arabic",), "hi": ("Hindi",), "en-US": ("American English",),
}
UNITS: dict[str, tuple[str, ...]] = {
    "km": ("kilometers", "kilometres"), "m": ("meters", "metres"), "cm": ("centimeters",), "mm": ("millimeters",),
    "mi": ("miles",), "ft": ("feet",), "in": ("inches",), "kg": ("kilograms", "kilos"), "g": ("grams",),
    "lb": ("pounds",), "lbs": ("pounds",), "oz": ("ounces",), "l": ("liters", "litres"), "ml": ("milliliters",),
    "c": ("Celsius", "degrees Celsius"), "f": ("Fahrenheit", "degrees Fahrenheit"), "celsius": ("degrees C",),
    "fahrenheit": ("degrees F",), "kmh": ("kilometers per hour",), "mph": ("miles per hour",),
    "h": ("hours",), "min": ("minutes",), "s": ("seconds",), "sec": ("seconds",), "ms": ("milliseconds",),
    "kb": ("kilobytes",), "mb": ("megabytes",), "gb": ("gigabytes",), "tb": ("terabytes",),
}
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "asc": ("ascending",), "desc": ("descending",), "mon": ("Monday",), "tue": ("Tuesday",), "wed": ("Wednesday",),
    "thu": ("Thursday",), "fri": ("Friday",), "sat": ("Saturday",), "sun": ("Sunday",), "am": ("morning",),
    "pm": ("afternoon", "evening"), "avg": ("average",), "max": ("maximum", "highest"), "min": ("minimum", "lowest"),
    "qty": ("quantity",), "st": ("street",), "ave": ("avenue",), "approx": ("approximately",),
    "daily": ("every day",), "weekly": ("every week",), "monthly": ("every month",), "yearly": ("every year",),
}
_BOOL_WORDS = {True: ("yes", "true", "enabled", "on"), False: ("no", "false", "disabled", "off")}

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_DATETIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::\d{2})?Z?$")
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::\d{2})?$")


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _date_forms(y: str, m: str, d: str) -> list[str]:
    month = _MONTHS[int(m) - 1]
    day = int(d)
    return [f"{_ordinal(day)} {month} {y}", f"{month} {day}, {y}", f"{month} {_ordinal(day)}",
            f"{day} {month[:3]} {y}", f"{m}/{d}/{y}"]


def _hour(h: int, mnt: int) -> str:
    suffix = "am" if h < 12 else "pm"
    h12 = h % 12 or 12
    return f"{h12}{suffix}" if mnt == 0 else f"{h12}:{mnt:02d} {suffix}"


def _string_forms(value: str) -> list[str]:
    v = value.strip()
    out: list[str] = []
    if (m := _DATE.match(v)) and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31:
        out += _date_forms(*m.groups())
    elif (m := _DATETIME.match(v)) and 1 <= int(m.group(2)) <= 12 and 1 <= int(m.group(3)) <= 31:
        y, mo, d, h, mi = m.groups()
        if int(h) < 24:
            out += [f"{f} at {_hour(int(h), int(mi))}" for f in _date_forms(y, mo, d)[:3]]
    elif (m := _TIME.match(v)) and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        h, mi = int(m.group(1)), int(m.group(2))
        out += [_hour(h, mi), f"{h} o'clock" if mi == 0 else f"half past {h % 12 or 12}" if mi == 30 else _hour(h, mi)]
    if v.upper() in CURRENCIES and (v.isupper() or len(v) == 3):
        out += list(CURRENCIES[v.upper()])
    if v in COUNTRIES:
        out += list(COUNTRIES[v])
    if v in US_STATES:
        out.append(US_STATES[v])
    if v in LANGUAGES or v.lower() in LANGUAGES:
        out += list(LANGUAGES.get(v) or LANGUAGES[v.lower()])
    if v.lower() in UNITS:
        out += list(UNITS[v.lower()])
    if v.lower() in ABBREVIATIONS:
        out += list(ABBREVIATIONS[v.lower()])
    return out


def surface_forms(value: Any) -> list[str]:
    """Ways a user writes ``value`` that a checker does not accept for it (maybe none).

    ``"2022-12-10"`` → ``["10th December 2022", "December 10, 2022", ...]``, ``"USD"`` →
    ``["dollars", ...]``, ``True`` → ``["yes", ...]``, ``0.05`` → ``["5%"]``.
    """
    if isinstance(value, bool):
        return list(_BOOL_WORDS[value])
    if isinstance(value, float) and 0 < value < 1:
        pct = round(value * 100, 4)
        return [f"{pct:g}%", f"{pct:g} percent"]
    if isinstance(value, int) and value >= 1000:
        return [f"{value:,}", f"{value / 1000:g}k"]
    if isinstance(value, str):
        return _string_forms(value)
    return []
