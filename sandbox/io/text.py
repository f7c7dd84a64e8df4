"""Text from outside (a file, a stored study, an env id, an exception) made safe to print.

A terminal obeys the control characters in what it is sent: ESC starts a sequence that can clear
the screen, retitle the window or write the clipboard (OSC 52), a carriage return overwrites the
line, and a bidi override reorders what follows. Every string that did not come from our own code
passes through `escaped` (one line, every control and format character written as a Python escape)
and, where it can be long, `cut` (bounded, with a note of how long it was) before it is printed.
`shown` does both for any value, for messages that quote what was refused.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# Unicode categories a terminal acts on or hides: controls (Cc), format characters such as bidi
# overrides and zero-width joiners (Cf), line/paragraph separators (Zl, Zp), surrogates and unassigned.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
MAX_INT_DIGITS = 50  # longer integers are described, not written out (and repr() of 5,000 digits raises)


def _escape_char(c: str) -> str:
    if c.isprintable() and unicodedata.category(c) not in _UNSAFE_CATEGORIES:
        return c
    code = ord(c)
    if c in "\n\t\r":
        return {"\n": "\\n", "\t": "\\t", "\r": "\\r"}[c]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escaped(text: str) -> str:
    """`text` as one printable line: control, format and separator characters written as escapes."""
    if text.isprintable() and text.isascii():
        return text  # the common case, without a per-character pass
    return "".join(_escape_char(c) for c in text)


def cut(text: str, limit: int = 200) -> str:
    """`text` of at most about `limit` characters; a longer one ends in a note of its full length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def line(text: str, limit: int = 2000) -> str:
    """A whole message from outside as one safe, bounded terminal line."""
    return escaped(cut(text, limit))


def shown(value: Any, limit: int = 60) -> str:
    """A value quoted in a message: repr-like, one line, cut to about `limit` characters.

    Never raises: a huge integer is described by its digit count, and an object whose repr fails
    by its type.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_DIGITS * 3.33:
        return f"an integer of about {int(value.bit_length() * 0.30103):,} digits"
    try:
        text = repr(value)
    except (ValueError, RecursionError, MemoryError):
        text = f"<a {type(value).__name__} value>"
    text = escaped(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
