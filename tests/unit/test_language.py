"""The customer's language: told from their first mail, matched and set by rules, spoken by the templates."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from textwrap import dedent

import pytest

from mailroom.adapters.language import language_of
from mailroom.compose import mails as compose
from mailroom.compose import wording
from mailroom.errors import RulesError
from mailroom.rules.engine import check_tests, decide, explain
from mailroom.rules.ruleset import parse_rules

from .test_loops import mail

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

RULES = dedent("""\
    version: 1
    teams: {general: {notify: [t@example.com]}, dach: {notify: [d@example.com]}}
    defaults: {team: general, priority: P3}
    rules:
      - name: German speakers go to the DACH team
        if: {language: [de]}
        then: {team: dach}
      - name: the Swiss partner is answered in French
        if: {from_domain: partner.ch}
        then: {language: fr}
    tests:
      - message: {from: kunde@example.de, subject: Hilfe, language: de}
        expect: {team: dach, language: de}
      - message: {from: a@partner.ch, subject: Hi}
        expect: {language: fr}
""")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Guten Tag, ich kann mich seit heute Morgen nicht mehr anmelden. Können Sie mir helfen?", "de"),
        ("Bonjour, je n'arrive plus à me connecter depuis ce matin. Pouvez-vous m'aider ?", "fr"),
        ("Hola, no puedo iniciar sesión desde esta mañana. ¿Pueden ayudarme?", "es"),
        ("Hello, I cannot log in since this morning. Can you help me?", "en"),
        ("Здравствуйте, не могу войти в аккаунт с утра. Помогите, пожалуйста.", "ru"),
        ("今朝からログインできません。助けていただけますか。", "ja"),
    ],
)
def test_the_language_of_a_customer_s_mail_is_told(text: str, code: str) -> None:
    assert language_of(text) == code


def test_too_little_text_tells_no_language() -> None:
    assert language_of("") is None and language_of("ok") is None


def test_rules_match_and_set_the_language_and_their_inline_tests_see_it() -> None:
    rules = parse_rules(RULES, "rules.yaml")
    assert check_tests(rules) == []
    german = replace(mail(), language="de")
    assert decide(rules, german).team == "dach"
    assert decide(rules, mail()).team == "general"
    assert decide(rules, replace(mail(from_addr="a@partner.ch"), language="en")).language == "fr"
    assert explain(rules, german, german.arrived_at)["language"] == "de"


def test_a_language_that_is_no_code_is_an_error_with_its_place() -> None:
    bad = RULES.replace("language: [de]", "language: [German]")
    with pytest.raises(RulesError) as caught:
        parse_rules(bad, "rules.yaml")
    assert caught.value.errors == ["rules.yaml:6:21: language: 'german' is not a language code (ISO 639-1, like de, fr, es)"]


def test_translations_are_used_where_they_exist_and_the_default_elsewhere(tmp_path: Path) -> None:
    values = dict(wording.sample_variants("ack")[0][1])
    text, html = compose.render(TEMPLATES, "ack", values, "de")
    assert "vielen Dank für Ihre Nachricht" in text and html is None
    text, html = compose.render(TEMPLATES, "ack", values, "fi")  # no Finnish: the default
    assert "Thank you for writing" in text and html is not None
    # The admin's own translation comes before the shipped one.
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    (folder / "de").mkdir(exist_ok=True)
    (folder / "de" / "ack.txt.j2").write_text("Servus {{ customer_name }}!\n")
    assert compose.render(folder, "ack", values, "de")[0] == "Servus Olga Ops!\n"


def test_rules_check_renders_every_language_s_templates(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATES, folder)
    assert compose.render_check(folder, wording.FAMILIES) == []
    (folder / "fr").mkdir(exist_ok=True)
    (folder / "fr" / "survey.txt.j2").write_text("Bonjour {{ client }}\n")
    problems = compose.render_check(folder, wording.FAMILIES)
    assert len(problems) == 1 and "fr/survey" in problems[0] and "client" in problems[0]
