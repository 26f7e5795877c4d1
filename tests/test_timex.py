"""Tests of the temporal tagger (storydesk.timex) and its TempEval-3 evaluation command."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from storydesk.timex import Timex, tag, tag_ranges

MON = dt.date(2023, 8, 14)  # a Monday
SUN = dt.date(2023, 8, 6)  # a Sunday
D = dt.date


def one(text: str, dct: dt.date | None = MON) -> Timex:
    """The single expression of ``text`` (fails when there is not exactly one)."""
    found = tag(text, dct)
    assert len(found) == 1, [(t.text, t.value) for t in found]
    return found[0]


def values(text: str, dct: dt.date | None = MON) -> list[tuple[str, str]]:
    return [(t.text, t.value) for t in tag(text, dct)]


# --------------------------------------------------------------------------- API


def test_timex_offsets_match_text_and_are_ordered() -> None:
    text = "On Friday, leaders met. Talks resume next week, officials said in 2019 terms."
    found = tag(text, MON)
    assert [t.text for t in found] == ["Friday", "next week", "2019"]
    for t in found:
        assert text[t.start : t.end] == t.text
    assert [t.start for t in found] == sorted(t.start for t in found)


def test_timex_is_frozen() -> None:
    t = one("in 2019")
    with pytest.raises(AttributeError):
        t.value = "2020"  # type: ignore[misc]


# --------------------------------------------------------------------------- explicit dates


@pytest.mark.parametrize(
    ("text", "extent", "value"),
    [
        ("It happened on August 14, 2023.", "August 14, 2023", "2023-08-14"),
        ("It happened on Aug. 14.", "Aug. 14", "2023-08-14"),
        ("It happened on 14 Aug 2023.", "14 Aug 2023", "2023-08-14"),
        ("It happened on 2023-08-14.", "2023-08-14", "2023-08-14"),
        ("It happened on 8/14/2023.", "8/14/2023", "2023-08-14"),
        ("It happened on 14.08.2023.", "14.08.2023", "2023-08-14"),
        ("It happened on the 14th of August.", "the 14th of August", "2023-08-14"),
        ("It happened on Monday, Aug. 14, 2023.", "Monday, Aug. 14, 2023", "2023-08-14"),
        ("Sales peaked in May 2010.", "May 2010", "2010-05"),
        ("He was born in 1953.", "1953", "1953"),
        ("Prices were lower in the 1990s.", "the 1990s", "199"),
        ("It was built in the 19th century.", "19th century", "18"),
    ],
)
def test_explicit_dates(text: str, extent: str, value: str) -> None:
    t = one(text)
    assert (t.text, t.value, t.type) == (extent, value, "DATE")


def test_explicit_day_span() -> None:
    t = one("It happened on August 14, 2023.")
    assert t.first == t.last == D(2023, 8, 14)
    m = one("Sales peaked in May 2010.")
    assert (m.first, m.last) == (D(2010, 5, 1), D(2010, 5, 31))


def test_month_day_without_year_takes_the_nearest_sensible_year() -> None:
    # Past tense in January: last July, not the coming one.
    assert one("A parade was held on July 27.", D(2023, 1, 10)).value == "2022-07-27"
    # Future tense in December: the coming January.
    assert one("The vote will take place on January 5.", D(2023, 12, 20)).value == "2024-01-05"
    # The brief's example: a parade in a Monday article.
    assert one("a military parade was held on July 27", MON).value == "2023-07-27"


def test_bare_month_is_tense_aware() -> None:
    dct = D(2013, 3, 22)
    assert one("The flu season started in early December.", dct).value == "2012-12"
    assert one("The law takes effect in June.", dct).value == "2013-06"
    assert one("He was elected in October.", dct).value == "2012-10"
    assert one("The book is due to be published in May.", dct).value == "2013-05"


def test_in_july_in_2019() -> None:
    assert one("Exports fell in July.").value == "2023-07"
    assert one("Exports fell in 2019.").text == "2019"


def test_early_mid_late_modifiers() -> None:
    t = one("Prices rose in mid-August.")
    assert (t.text, t.value, t.mod) == ("mid-August", "2023-08", "MID")
    assert t.first is not None and t.first.day > 1 and t.last is not None and t.last.day < 31
    t = one("Talks resume early next year.")
    assert (t.text, t.value, t.mod) == ("early next year", "2024", "START")
    t = one("It began late last July.", D(2013, 3, 22))
    assert (t.text, t.value, t.mod) == ("late last July", "2012-07", "END")
    t = one("The flu peaked by the end of the year.", D(2013, 3, 22))
    assert (t.text, t.value, t.mod) == ("the end of the year", "2012", "END")
    assert one("It was popular in the late 1980s.").mod == "END"


def test_clock_times() -> None:
    t = one("The missile was fired at 06:50 AM.")
    assert (t.text, t.type, t.value) == ("06:50 AM", "TIME", "2023-08-14T06:50")
    t = one("The vote is set for 15:00 GMT Saturday.", D(2013, 3, 22))
    assert (t.text, t.type, t.value) == ("15:00 GMT Saturday", "TIME", "2013-03-23T15:00")
    assert t.first == D(2013, 3, 23)
    # Across "on" the two stay separate (TimeML excludes the preposition), but the
    # time takes the day of its sentence.
    assert values("Markets opened at 9:30 a.m. ET on Aug. 10.") == [
        ("9:30 a.m. ET", "2023-08-10T09:30"),
        ("Aug. 10", "2023-08-10"),
    ]


def test_clock_time_takes_the_day_of_its_sentence() -> None:
    found = tag("The ceasefire will take effect at midnight on Sunday.", MON)
    assert [(t.text, t.value) for t in found] == [("midnight", "2023-08-20T24:00"), ("Sunday", "2023-08-20")]


def test_part_of_day() -> None:
    t = one("Monday morning the drills began.")
    assert (t.type, t.value) == ("TIME", "2023-08-14TMO")
    assert one("Officials met Friday afternoon.", D(2013, 3, 22)).value == "2013-03-22TAF"
    assert one("Fighting erupted last night.").value == "2023-08-13TNI"
    assert one("He speaks tonight.").value == "2023-08-14TNI"


# --------------------------------------------------------------------------- relative to DCT


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("today", "2023-08-14"),
        ("yesterday", "2023-08-13"),
        ("tomorrow", "2023-08-15"),
        ("last week", "2023-W32"),
        ("this week", "2023-W33"),
        ("next week", "2023-W34"),
        ("next month", "2023-09"),
        ("last month", "2023-07"),
        ("last year", "2022"),
        ("this year", "2023"),
        ("two days ago", "2023-08-12"),
        ("three weeks ago", "2023-W30"),
        ("four years ago", "2019"),
        ("the previous month", "2023-07"),
        ("recently", "PAST_REF"),
        ("now", "PRESENT_REF"),
        ("currently", "PRESENT_REF"),
        ("the future", "FUTURE_REF"),
        ("the past", "PAST_REF"),
    ],
)
def test_relative_to_dct(text: str, value: str) -> None:
    t = one(f"It was said {text}.")
    assert (t.text, t.value) == (text, value)


def test_relative_spans() -> None:
    t = one("It was said last week.")
    assert (t.first, t.last) == (D(2023, 8, 7), D(2023, 8, 13))
    t = one("The results come later this month.")
    assert (t.text, t.value) == ("later this month", "2023-08")
    assert (t.first, t.last) == (MON, D(2023, 8, 31))
    t = one("He resigned earlier this month.")
    assert (t.value, t.first, t.last) == ("2023-08", D(2023, 8, 1), MON)


def test_recent_weeks_is_a_vague_duration() -> None:
    # TimeML (and the TempEval-3 gold) treat "recent weeks" as DURATION PXW.
    t = one("Tension has grown in recent weeks.")
    assert (t.text, t.type, t.value) == ("recent weeks", "DURATION", "PXW")


def test_anaphoric_expressions_follow_the_last_date() -> None:
    found = tag("On Friday, the minister resigned. The next day, protests erupted.", MON)
    assert [(t.text, t.value) for t in found] == [("Friday", "2023-08-11"), ("The next day", "2023-08-12")]
    found = tag("Exports rose in March 2012 from the previous month.", MON)
    assert found[-1].value == "2012-02"


# --------------------------------------------------------------------------- tense-aware weekdays


def test_weekdays_past_and_future_from_the_brief() -> None:
    ranges = tag_ranges("Kim visited factories on Friday and Saturday, state media said Monday.", MON)
    assert [(t.text, t.first, t.last) for t in ranges] == [
        ("Friday and Saturday", D(2023, 8, 11), D(2023, 8, 12)),
        ("Monday", MON, MON),
    ]
    assert one("Leaders are set to hold a summit in Washington on Friday.").value == "2023-08-18"
    assert one("The allies will begin joint drills next week.").value == "2023-W34"
    assert one("Last week, Kim presided over a meeting.").value == "2023-W32"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("The two leaders met on Friday.", "2023-08-11"),
        ("The two leaders will meet on Friday.", "2023-08-18"),
        ("The two leaders are meeting on Friday.", "2023-08-18"),
        ("The two leaders plan to meet on Friday.", "2023-08-18"),
        ("The vote is expected to take place on Thursday.", "2023-08-17"),
        ("The ministry said on Tuesday that talks went well.", "2023-08-08"),
        ("On Saturday, officials said, the army withdrew.", "2023-08-12"),
        ("On Thursday the parliament will vote.", "2023-08-17"),
        ("Talks have been postponed until Wednesday.", "2023-08-16"),
        ("The company says Monday that profits rose.", "2023-08-14"),
        ("Shares rose 3% on Monday.", "2023-08-14"),
    ],
)
def test_weekday_tense(text: str, value: str) -> None:
    assert one(text).value == value


def test_weekday_modifiers() -> None:
    assert one("He arrived last Friday.").value == "2023-08-11"
    assert one("He arrives next Friday.").value == "2023-08-18"
    assert one("He arrived last Monday.").value == "2023-08-07"  # not the DCT itself


def test_three_day_inspections_starting_saturday() -> None:
    text = "Kim conducted three-day inspections starting Saturday after a giant military parade last month."
    found = tag(text, SUN)
    assert [(t.text, t.type, t.value) for t in found] == [
        ("three-day", "DURATION", "P3D"),
        ("Saturday", "DATE", "2023-08-05"),
        ("last month", "DATE", "2023-07"),
    ]
    merged = tag_ranges(text, SUN)[0]
    # The span is not clamped to the DCT: three days from Saturday end on Monday.
    assert (merged.text, merged.value, merged.first, merged.last) == (
        "three-day inspections starting Saturday",
        "2023-08-05",
        D(2023, 8, 5),
        D(2023, 8, 7),
    )


# --------------------------------------------------------------------------- ranges


def test_tag_keeps_range_ends_separate_and_tag_ranges_merges() -> None:
    text = "The drills are set to take place August 21 through August 31."
    assert values(text) == [("August 21", "2023-08-21"), ("August 31", "2023-08-31")]
    merged = tag_ranges(text, MON)
    assert [(t.text, t.value, t.first, t.last) for t in merged] == [
        ("August 21 through August 31", "2023-08-21", D(2023, 8, 21), D(2023, 8, 31))
    ]


@pytest.mark.parametrize(
    ("text", "extent", "first", "last"),
    [
        ("They will meet from Friday to Saturday.", "Friday to Saturday", D(2023, 8, 18), D(2023, 8, 19)),
        ("The fair runs between March 3 and 5, 2024.", "March 3 and 5, 2024", D(2024, 3, 3), D(2024, 3, 5)),
        ("The summit is scheduled for Sept. 5-7.", "Sept. 5-7", D(2023, 9, 5), D(2023, 9, 7)),
        ("The 2009-2010 season was long.", "2009-2010", D(2009, 1, 1), D(2010, 12, 31)),
    ],
)
def test_ranges(text: str, extent: str, first: dt.date, last: dt.date) -> None:
    found = [t for t in tag_ranges(text, MON) if t.type == "DATE"]
    assert [(t.text, t.first, t.last) for t in found] == [(extent, first, last)]


def test_non_consecutive_days_are_not_a_range() -> None:
    found = tag_ranges("They met on Monday and Thursday.", D(2023, 8, 18))
    assert [t.text for t in found] == ["Monday", "Thursday"]


def test_year_range_with_two_digits() -> None:
    assert values("the 1957-58 expedition") == [("1957", "1957"), ("58", "1958")]


# --------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "extent", "value", "mod"),
    [
        ("a two-day visit", "two-day", "P2D", ""),
        ("it lasted three weeks", "three weeks", "P3W", ""),
        ("the party ruled for 70 years", "70 years", "P70Y", ""),
        ("a 24-hour strike", "24-hour", "PT24H", ""),
        ("over the past two years", "the past two years", "P2Y", ""),
        ("in the next few months", "the next few months", "PXM", ""),
        ("a post he held for almost seven years", "almost seven years", "P7Y", "LESS_THAN"),
        ("he stayed more than a week", "more than a week", "P1W", "MORE_THAN"),
        ("it took about 90 minutes", "about 90 minutes", "PT90M", "APPROX"),
        ("he spent a year and a half abroad", "a year and a half", "P18M", ""),
        ("the oil companies had blocked it for years", "years", "PXY", ""),
        ("over the past decade", "the past decade", "P10Y", ""),
    ],
)
def test_durations(text: str, extent: str, value: str, mod: str) -> None:
    t = one(text)
    assert (t.text, t.type, t.value, t.mod) == (extent, "DURATION", value, mod)
    assert t.first is None and t.last is None


def test_coordinated_durations_share_the_unit() -> None:
    assert values("it would take between 12 and 18 months") == [("12", "P12M"), ("18 months", "P18M")]


# --------------------------------------------------------------------------- false positives


@pytest.mark.parametrize(
    "text",
    [
        "The 70-year-old man was arrested.",
        "A man aged 45 years was arrested.",
        "Children 6 months and older should be vaccinated.",
        "The army carried out 100 missile trials.",
        "He finished 2nd R in the race.",
        "The company employs 2000 people.",
        "Sales reached $2013 million.",
        "Protesters may march on the capital.",
        "Theresa May met Macron in Paris.",
        "Prime Minister May said talks would go on.",
        "The Sunday Times reported the story.",
        "The Good Friday Agreement ended the conflict.",
        "He was a Black Friday shopper.",
        "Christmas Island is remote.",
        "Prices fall when supply rises.",
        "She read John 3:16 aloud.",
        "Now that the war is over, people returned.",
    ],
)
def test_not_temporal(text: str) -> None:
    assert tag(text, MON) == []


def test_march_and_may_as_months_need_a_date_context() -> None:
    assert values("He was elected in May.") == [("May", "2023-05")]
    assert values("The strike began in March.") == [("March", "2023-03")]
    assert values("Talks may resume. Troops march on.") == []


# --------------------------------------------------------------------------- sets


@pytest.mark.parametrize(
    ("text", "extent", "value"),
    [
        ("the festival is held every year", "every year", "P1Y"),
        ("the report is published annually", "annually", "XXXX"),
        ("the magazine appears weekly", "weekly", "XXXX-WXX"),
        ("they meet each Monday", "each Monday", "XXXX-WXX-1"),
        ("the market opens on Fridays", "Fridays", "XXXX-WXX-5"),
        ("shelling starts every morning", "every morning", "XXXX-XX-XXTMO"),
        ("he calls twice a week", "twice a week", "P1W"),
    ],
)
def test_sets(text: str, extent: str, value: str) -> None:
    t = one(text)
    assert (t.text, t.type, t.value) == (extent, "SET", value)


# --------------------------------------------------------------------------- no DCT and odd input


def test_without_dct_relative_values_stay_unanchored() -> None:
    found = tag("On Friday, July 27, yesterday, last week and on August 14, 2023.", None)
    got = [(t.text, t.value, t.first) for t in found]
    assert got == [
        ("Friday, July 27", "XXXX-07-27", None),
        ("yesterday", "PAST_REF", None),
        ("last week", "PAST_REF", None),
        ("August 14, 2023", "2023-08-14", D(2023, 8, 14)),
    ]
    assert one("He left on Friday.", None).value == "XXXX-WXX-5"


def test_extreme_arithmetic_does_not_crash() -> None:
    t = one("Humans arrived 125,000 years ago.")
    assert t.value == "PAST_REF"
    assert tag("", MON) == []


def test_a_long_text_is_tagged_whole() -> None:
    # throughput is measured in bench/timex.py, not here: this checks nothing is dropped on long input
    sentence = (
        "The minister, who visited Kyiv on Friday, said on Monday that talks would resume next week "
        "after a two-day pause, officials said. "
    )
    found = tag(sentence * 400, MON)
    assert len(found) == 4 * 400


# --------------------------------------------------------------------------- TempEval-3 command


def _te3_dir() -> Path | None:
    from storydesk.errors import EvalError
    from storydesk.eval import dataset_path

    try:
        return dataset_path("tempeval3")
    except EvalError:
        return None


TE3 = _te3_dir()
needs_te3 = pytest.mark.skipif(TE3 is None, reason="tempeval3 data set not available")


def test_to_timeml_escapes_and_tags() -> None:
    from storydesk.eval.dates import to_timeml

    body = "R&D fell <sharply> last year."
    xml = to_timeml(body, tag(body, MON))
    assert xml == 'R&amp;D fell &lt;sharply&gt; <TIMEX3 tid="t1" type="DATE" value="2022">last year</TIMEX3>.'


def test_command_reports_a_missing_dataset(tmp_path: Path) -> None:
    from storydesk.eval.dates import command

    result = CliRunner().invoke(command, ["--dataset-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "missing" in result.output


@pytest.mark.datasets
@needs_te3
def test_evaluate_tempeval3_beats_the_target() -> None:
    from storydesk.eval.dates import evaluate

    assert TE3 is not None
    res = evaluate(TE3)
    assert res["gold_timex"] == 138
    assert res["value_f1"] >= 0.80
    assert res["relaxed"]["f1"] >= 0.90
    assert res["strict"]["f1"] >= 0.85
    assert res["sentences_per_cpu_s"] >= 1000  # wall-clock sentences_per_s depends on the machine's load


@pytest.mark.datasets
@needs_te3
def test_command_json_and_table() -> None:
    from storydesk.eval.dates import command

    assert TE3 is not None
    runner = CliRunner()
    result = runner.invoke(command, ["--dataset-dir", str(TE3), "--json"])
    assert result.exit_code == 0, result.output
    res = json.loads(result.output)
    assert res["anchor"] == {"name": "HeidelTime value F1", "value_f1": pytest.approx(0.7761)}
    assert 0.8 <= res["value_f1"] <= 1.0
    result = runner.invoke(command, ["--dataset-dir", str(TE3), "-v"])
    assert result.exit_code == 0, result.output
    assert "value F1" in result.output and "HeidelTime value F1 77.61" in result.output
    assert "value errors:" in result.output and "gold value=" in result.output
