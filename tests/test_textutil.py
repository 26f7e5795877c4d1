from storydesk.textutil import content_id, fold, normalize_text, sentence_texts, split_paragraphs


def test_sentences_respect_abbreviations_initials_and_quotes():
    text = (
        'Gen. Ravel Osk met U.S. envoys on Friday. "We will not yield," he said. '
        "J. K. Marr, a spokesman, added that talks would resume.\n\n"
        "The rate rose 3.5 percent... officials said."
    )
    assert sentence_texts(text) == [
        "Gen. Ravel Osk met U.S. envoys on Friday.",
        '"We will not yield," he said.',
        "J. K. Marr, a spokesman, added that talks would resume.",
        "The rate rose 3.5 percent... officials said.",
    ]


def test_sentence_after_closing_curly_quote_and_question():
    assert sentence_texts("He asked “Why now?” Nobody answered. Is it over? Yes.") == [
        "He asked “Why now?”",
        "Nobody answered.",
        "Is it over?",
        "Yes.",
    ]


def test_paragraphs_single_newlines_and_soft_wraps():
    text = "First paragraph ends here.\nSecond paragraph starts\nand wraps here.\n\nThird."
    assert split_paragraphs(text) == ["First paragraph ends here.", "Second paragraph starts and wraps here.", "Third."]


def test_normalize_and_fold():
    assert normalize_text("a\u00a0b\u200b c\r\n  d  ") == "a b c\nd"
    assert normalize_text("nul\x00 and bell\x07 gone") == "nul and bell gone"
    assert fold("Kim’s “Plan” – Now") == 'kim\'s "plan" - now'


def test_content_id_is_stable_and_sensitive():
    a = content_id("x.txt", None, "Title", "Body text")
    assert a == content_id("x.txt", None, "title", "Body  text")  # folded
    assert a != content_id("y.txt", None, "Title", "Body text")
    assert len(a) == 16
