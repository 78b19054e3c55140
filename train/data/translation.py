"""Generators of the bundled translation datasets: `(source, target)` string pairs.

Each pair is a pure function of a numpy `Generator`:

- `date_pair`: a calendar day between 1950-01-01 and 2049-12-31 written in one of `DATE_FORMATS`
  human-readable forms (English month and weekday names, ordinals, two-digit years read as
  1950-2049, varied letter case) -> its ISO form `YYYY-MM-DD`.
- `addition_pair`: `"a+b"` with 1- to 4-digit operands -> the decimal sum.
"""

import datetime

import numpy as np

FIRST_DAY = datetime.date(1950, 1, 1)
DAYS = (datetime.date(2049, 12, 31) - FIRST_DAY).days + 1
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def ordinal(n: int) -> str:
    """Writes `n` as an English ordinal: `3 -> "3rd"`, `11 -> "11th"`, `22 -> "22nd"`."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _fields(d: datetime.date) -> dict:
    month, weekday = MONTHS[d.month - 1], WEEKDAYS[d.weekday()]
    return {"d": d.day, "dd": f"{d.day:02d}", "m": d.month, "mm": f"{d.month:02d}", "yyyy": d.year,
            "yy": f"{d.year % 100:02d}", "month": month, "mon": month[:3], "weekday": weekday, "wkd": weekday[:3],
            "dth": ordinal(d.day)}


#: the human-readable forms of a date (`str.format` over `_fields`); numeric forms are day-first.
DATE_FORMATS = (
    "{d} {month} {yyyy}",                # 3 march 1998
    "{weekday} {dth} of {month} {yyyy}",  # tuesday 3rd of march 1998
    "{dd}/{mm}/{yy}",                    # 03/03/98
    "{mon} {d}, {yyyy}",                 # mar 3, 1998
    "{month} {d}, {yyyy}",               # march 3, 1998
    "{d}.{m}.{yyyy}",                    # 3.3.1998
    "{yyyy}/{mm}/{dd}",                  # 1998/03/03
    "{wkd}, {d} {mon} {yyyy}",           # tue, 3 mar 1998
    "the {dth} of {month}, {yyyy}",      # the 3rd of march, 1998
    "{dd} {mon} {yy}",                   # 03 mar 98
    "{month} {dth} {yyyy}",              # march 3rd 1998
    "{weekday}, {month} {d}, {yyyy}",    # tuesday, march 3, 1998
)


def date_pair(rng: np.random.Generator, day: int) -> tuple[str, str]:
    """Writes `day` (days since 1950-01-01) in a random format and letter case.

    Returns:
        A tuple `(text, iso)` of the human-readable date and its ISO form `YYYY-MM-DD`.
    """
    d = FIRST_DAY + datetime.timedelta(days=int(day))
    text = DATE_FORMATS[rng.integers(len(DATE_FORMATS))].format(**_fields(d))
    case = rng.integers(3)
    text = text.title() if case == 1 else text.upper() if case == 2 else text
    return text, d.isoformat()


def date_days(rng: np.random.Generator, split: str, count: int) -> np.ndarray:
    """Draws `count` day numbers of `split` (with replacement only when the split has fewer days).

    Validation days are those `= 1 (mod 20)`, test days `= 2`, training the rest, so no calendar day
    of the evaluation splits is seen in training.

    Returns:
        An int array of shape `(count,)` of days since 1950-01-01.
    """
    residue = {"validation": 1, "test": 2}.get(split)
    days = np.arange(DAYS)
    pool = days[days % 20 == residue] if residue is not None else days[(days % 20 != 1) & (days % 20 != 2)]
    return rng.choice(pool, count, replace=count > len(pool))


def addition_pair(rng: np.random.Generator) -> tuple[str, str]:
    """Draws `"a+b"` with operands of 1 to 4 digits (digit counts uniform); returns it and the sum as strings."""
    a, b = (int(rng.integers(10 ** (k - 1) if k > 1 else 0, 10 ** k)) for k in rng.integers(1, 5, size=2))
    return f"{a}+{b}", str(a + b)
