import datetime as dt

from storydesk.clean import clean


def kinds(res):
    return [(s.kind, s.text) for s in res.stripped]


def test_title_glued_to_read_time_junk():
    raw = (
        "Lorven mayor unveils tram plan ahead of vote5 min read 03 Feb 2025, 09:15 AM CET\n"
        "The mayor of Lorven presented a tram plan on Sunday.\nCouncillors will vote next week."
    )
    res = clean(raw)
    assert res.title == "Lorven mayor unveils tram plan ahead of vote"
    assert "min read" not in res.text and "09:15" not in res.text
    assert ("read_time", "5 min read 03 Feb 2025, 09:15 AM CET") in kinds(res)
    # The stamp dates the article when no metadata does.
    assert res.published == dt.date(2025, 2, 3)
    assert res.published_source.startswith("inferred: byline")


def test_captions_credits_and_editors_notes_are_stripped_but_kept():
    raw = (
        "Tram plan splits Lorven council\n\n"
        "This handout photo released by the Lorven city hall on February 3, 2025 shows the mayor at a depot. "
        "(Photo by CITY HALL VIA LPA / Greyline)\n\n"
        "The mayor of Lorven said Monday the tram would open in 2027.\n\n"
        "—EDITORS NOTE— RESTRICTED TO EDITORIAL USE – MANDATORY CREDIT “GREYLINE PHOTO” – NO MARKETING\n\n"
        "Photos published by the council showed crowded buses.\n\n"
        "(With inputs from Greyline Wire)"
    )
    res = clean(raw)
    assert res.title == "Tram plan splits Lorven council"
    assert res.text == (
        "The mayor of Lorven said Monday the tram would open in 2027.\n\n"
        "Photos published by the council showed crowded buses."
    )
    k = kinds(res)
    assert ("photo_credit", "(Photo by CITY HALL VIA LPA / Greyline)") in k
    assert ("relay_credit", "(With inputs from Greyline Wire)") in k
    assert any(kind == "editors_note" for kind, _ in k)
    # 2025-02-03 is a Monday and the article says "said Monday".
    assert res.published == dt.date(2025, 2, 3)


def test_image_source_line_social_prompt_subheading_and_dateline():
    raw = (
        "Follow us on Image Source : Greyline The mayor of Lorven\n\n"
        "LORVEN: The council approved the tram plan on Tuesday after a long debate.\n\n"
        "Opposition members walked out before the vote.\n\n"
        "What happens next?\n\n"
        "Construction is due to start in the spring.\n\n"
        "(With Greyline inputs)"
    )
    res = clean(raw, published=dt.date(2025, 2, 4), published_source="header")
    assert res.title is None
    assert res.dateline == "LORVEN"
    assert res.text.startswith("The council approved the tram plan")
    assert res.subheadings == ["What happens next?"]
    assert "What happens next?" not in res.text
    for junk in ("Follow us on", "Image Source", "(With Greyline inputs)"):
        assert junk not in res.text
    assert res.published == dt.date(2025, 2, 4)
    assert res.published_source == "header"


def test_lead_sentence_is_not_taken_for_a_headline():
    raw = "The council approved the tram plan on Tuesday.\n\nConstruction starts in spring."
    assert clean(raw).title is None


def test_no_date_evidence_leaves_published_unknown():
    res = clean("Officials met on Friday to discuss the plan.\n\nNo decision was taken.")
    assert res.published is None
    assert res.published_source == "unknown"


def test_a_story_glued_to_its_opening_caption_keeps_the_story():
    story = " ".join(
        f"Rescue crews in the Orm valley searched {n} more farms on Tuesday after the landslide, officials said."
        for n in ("four", "five", "six", "seven", "eight", "nine")
    )
    text = "This handout photo released by the Orm fire service shows crews at work near Lask. " + story
    res = clean(text)
    assert "Rescue crews in the Orm valley searched four" in res.text
    assert "handout photo" not in res.text
    assert any(s.kind == "caption" and "handout photo" in s.text for s in res.stripped)
