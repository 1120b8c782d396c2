"""The strftime formats a mapping may give for dates and times, compiled to the pieces the
set-based landing reads them by (extractors/mapping_sql.py).

Only these directives are read: %Y %y %m %d %H %M %S %f. A format with another one is
refused when the mapping is loaded (`UnreadableFormat`), naming the ones accepted, so a
mapping that loads is one the landing can read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# CPython's own patterns for these strptime directives (Lib/_strptime.py): the texts a
# vendor's strftime writes; seconds stop at 59.
DIRECTIVES = {
    "Y": r"(\d\d\d\d)",
    "y": r"(\d\d)",
    "m": r"(1[0-2]|0[1-9]|[1-9])",
    "d": r"(3[01]|[12]\d|0[1-9]|[1-9]| [1-9])",
    "H": r"(2[0-3]|[01]\d|\d)",
    "M": r"([0-5]\d|\d)",
    "S": r"([0-5]\d|\d)",
    "f": r"(\d{1,6})",
}
WIDTH = {"Y": 4, "y": 2, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2, "f": 6}
ACCEPTED = " ".join(f"%{d}" for d in DIRECTIVES)
# Formats whose zero-padded texts PostgreSQL reads as they are.
_ISO_LIKE = {"%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d"}


class UnreadableFormat(ValueError):
    """A format the landing cannot read; the message says what is accepted."""


@dataclass(frozen=True)
class Strftime:
    pattern: str  # POSIX regular expression for the whole text, as strptime reads it
    groups: dict[str, int]  # directive -> capture group number
    # A text zero-padded (every part at its full width, one blank per blank) is cut by
    # position (substr), much cheaper than regex captures.
    positions: dict[str, int]  # directive -> its first character in a padded text
    iso_like: bool  # a padded text is already canonical
    shape: str  # a padded text with every digit written 0 (translate() is cheaper than ~)

    @property
    def has_date(self) -> bool:
        """Whether the format names a day: year, month and day of month."""
        return {"d", "m"} <= set(self.groups) and bool({"Y", "y"} & set(self.groups))

    @property
    def has_month(self) -> bool:
        return "m" in self.groups and bool({"Y", "y"} & set(self.groups))


def compile_strftime(fmt: str) -> Strftime:
    pattern, groups, index, position = "^", {}, 0, 0
    positions, width, shape = {}, 1, ""
    while position < len(fmt):
        char = fmt[position]
        if char == "%" and position + 1 < len(fmt):
            directive = fmt[position + 1]
            position += 2
            if directive == "%":
                pattern += "%"
                continue
            if directive not in DIRECTIVES:
                raise UnreadableFormat(
                    f"%{directive} in {fmt!r} is not read (the directives read: {ACCEPTED})"
                )
            if directive in groups:
                raise UnreadableFormat(f"%{directive} appears twice in {fmt!r}")
            index += 1
            groups[directive] = index
            pattern += DIRECTIVES[directive]
            positions[directive] = width
            width += WIDTH[directive]
            shape += "0" * WIDTH[directive]
            continue
        position += 1
        if char.isdigit():
            raise UnreadableFormat(f"a digit outside the directives of {fmt!r}")
        # strptime reads any run of whitespace where the format has whitespace.
        pattern += r"\s+" if char.isspace() else re.escape(char)
        shape += char
        width += 1
    if "Y" in groups and "y" in groups:
        raise UnreadableFormat(f"both %Y and %y in {fmt!r}")
    return Strftime(pattern + "$", groups, positions, fmt in _ISO_LIKE, shape)
