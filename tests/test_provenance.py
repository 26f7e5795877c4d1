"""Provenance: media recognition, primary sources and relays, on fictional articles written for these tests."""

from __future__ import annotations

from storydesk.article.entities import EntityIndex
from storydesk.article.provenance import MediaResolver, article_provenance, looks_like_media, media_primaries
from storydesk.models import Article, ArticleEntities, Attribution, Mention, StrippedLine


def mention(aid: str, text: str, etype: str = "ORG") -> Mention:
    return Mention(article_id=aid, sentence=0, start=0, end=len(text), text=text, type=etype)


def resolver(*articles: Article) -> MediaResolver:
    ents = {
        "a": ArticleEntities(
            [mention("a", "Ostrava News Agency"), mention("a", "ONA"), mention("a", "Ana Vell", "PERSON")],
            definitions=[("Ostrava News Agency", "ONA")],
        )
    }
    return MediaResolver(list(articles), ents, EntityIndex(ents))


def art(text: str, stripped: tuple[StrippedLine, ...] = (), aid: str = "a") -> Article:
    return Article(id=aid, source=f"{aid}.txt", text=text, outlet="Valley Times", stripped=stripped)


def said(via: tuple[str, ...], speaker: str = "Ana Vell") -> Attribution:
    return Attribution(
        article_id="a", sentence=0, content="x", content_start=0, content_end=1, speaker=speaker, via=via
    )


STATE = art("Ostravan state news agency ONA said the dam would hold. The report added that repairs began.")


def test_resolve_named_and_generic_media() -> None:
    media = resolver(STATE)
    assert media.resolve("the Ostrava News Agency (ONA)") == "ONA"
    assert (media.resolve("Reuters"), media.resolve("AP")) == ("Reuters", "AP")
    # "state media" means the state medium this corpus names ("state news agency ONA").
    assert media.resolve("state media") == "ONA"
    assert media.resolve("Ana Vell") is None
    assert media.is_state("ONA") and not media.is_wire("ONA")
    assert media.is_wire("AP") and not media.is_state("AP")


def test_generic_references_are_recognised() -> None:
    media = resolver(STATE)
    for s in ("the report", "The report", "state media", "a media report", "the agency"):
        assert media.is_generic(s), s
    for s in ("ONA", "the Ostrava News Agency", "Ana Vell", "the minister"):
        assert not media.is_generic(s), s


def test_chain_gives_primary_and_relay() -> None:
    media = resolver(STATE)
    p = article_provenance(STATE, [said(("ONA", "AP"))], media)
    assert (p.primary, p.relays) == (("ONA",), ("AP",))
    assert media_primaries(p) == ("ONA",)


def test_wire_attribution_alone_is_a_relay_and_credit_lines_count() -> None:
    media = resolver(STATE)
    a = art("The dam held, according to AP.", (StrippedLine("(With inputs from Reuters and AFP)", "relay_credit"),))
    p = article_provenance(a, [said(("AP",), speaker="AP")], media)
    assert p.primary == ()
    assert p.relays == ("AP", "Reuters", "AFP")


def test_photo_credit_counts_only_without_text_credit() -> None:
    media = resolver(STATE)
    photo = StrippedLine("(Photo by ONA VIA KNS / AFP)", "photo_credit")
    only_photo = article_provenance(art("The dam held.", (photo,)), [said(("ONA",))], media)
    assert only_photo.relays == ("AFP",)
    credit = StrippedLine("(With AP inputs)", "relay_credit")
    both = article_provenance(art("The dam held.", (photo, credit)), [said(("ONA",))], media)
    assert both.relays == ("AP",)


def test_no_source_named_is_own_reporting() -> None:
    p = article_provenance(art("The dam held."), [], resolver(STATE))
    assert p.primary == ("own:Valley Times",) and p.relays == ()
    assert media_primaries(p) == ()


def test_looks_like_media() -> None:
    assert looks_like_media("KCNA") and looks_like_media("The Morning Herald") and looks_like_media("Xinhua")
    assert not looks_like_media("Ana Vell") and not looks_like_media("Ministry of Water")
