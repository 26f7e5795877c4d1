"""Temporal tagger: finds date/time expressions in English news and normalises them.

Values follow ISO-TimeML (TIMEX3), resolved against the document creation time (the
publication date), tense-aware for weekdays, bare months, seasons and holidays::

    >>> import datetime as dt
    >>> [(t.text, t.value) for t in tag("Leaders met on Friday.", dt.date(2023, 8, 14))]
    [('Friday', '2023-08-11')]

:func:`tag` returns one :class:`Timex` per TimeML expression (so "from Friday to
Saturday" gives two); :func:`tag_ranges` merges explicit ranges into one Timex whose
``first``/``last`` cover the range.
"""

from __future__ import annotations

import datetime as dt

from storydesk.timex.engine import run
from storydesk.timex.model import Timex
from storydesk.timex.ranges import merge_ranges
from storydesk.timex.tense import sentence_spans

__all__ = ["Timex", "sentence_spans", "tag", "tag_ranges"]


def tag(text: str, dct: dt.date | None) -> list[Timex]:
    """Find and normalise the temporal expressions of a text.

    Args:
        text: Plain text (one article, a paragraph or a sentence).
        dct: Document creation time (publication date) used to resolve relative
            expressions; with ``None`` relative expressions get unanchored values
            (``XXXX-WXX-5``, ``PAST_REF`` ...) and ``first``/``last`` of None.

    Returns:
        The expressions in text order, never overlapping.
    """
    return run(text, dct)


def tag_ranges(text: str, dct: dt.date | None) -> list[Timex]:
    """Like :func:`tag`, but explicit ranges become one Timex covering the range.

    Merged forms: "August 21 through August 31", "from Friday to Saturday",
    "between March 3 and 5", "on Friday and Saturday" (only when the days are
    consecutive; "Monday and Friday" stay two dates), "Aug. 14-16", "2009-2010", and a
    day-count duration with its start ("three-day inspections starting Saturday").
    A merged Timex keeps the value (and type) of its first date and spans
    ``first`` of the first to ``last`` of the second.

    Args:
        text: Plain text.
        dct: Document creation time, as for :func:`tag`.

    Returns:
        The expressions in text order.
    """
    return merge_ranges(text, run(text, dct))
