"""A machine translator for tests: Polish from a fixed glossary, nothing fetched."""

from __future__ import annotations

from wagtail_localize.machine_translators.base import BaseMachineTranslator
from wagtail_localize.strings import StringValue

from cms.demo.content import PACK

POLISH = {
    "title": "Pakiet informacyjny: spotkanie sieci w Bukareszcie",
    "slug": "pakiet-bukareszt",
    "subject": "Twój pakiet informacyjny ze spotkania w Bukareszcie",
    "preheader": "Najważniejsze przesłania, pytania do parlamentu i kontakty w Twoim kraju.",
    "summary": "Parlamentarzyści z dwunastu państw uzgodnili wspólne kroki przeciwko handlowi dziećmi i wyzyskowi w pracy.",
    "message_1": "Handel dziećmi w internecie rośnie i wymaga odpowiedzi ponad granicami.",
    "message_2": "Ofiary trzeba wcześnie rozpoznawać i chronić, a nie karać.",
    "message_3": "Parlamenty mogą śledzić przepływ pieniędzy dzięki ustawom o łańcuchach dostaw.",
    "recommendation_1": "Zwróć się do rządu o krajowy mechanizm kierowania dzieci będących ofiarami.",
    "recommendation_2": "Poprzyj obowiązkową należytą staranność przedsiębiorstw w zakresie praw człowieka.",
    "question_1": "Co robi rząd, aby rozpoznawać w internecie dzieci będące ofiarami handlu ludźmi?",
    "question_2": "Czy rząd opublikuje dane o wyrokach za wyzysk w pracy?",
    "fact_figure_1": "27,6 miliona",
    "fact_label_1": "osób w pracy przymusowej na świecie",
    "fact_source_1": "MOP, 2022",
    "fact_figure_2": "1 na 4",
    "fact_label_2": "zarejestrowane ofiary w UE to dziecko",
    "fact_source_2": "Eurostat",
    "pass_on": "Przekaż ten pakiet komisji, która zajmuje się handlem ludźmi w Twoim parlamencie, oraz kolegom, którzy mogliby zadać te pytania.",
}
GLOSSARY = {PACK[key]: text for key, text in POLISH.items()}


class GlossaryTranslator(BaseMachineTranslator):
    display_name = "Glossary"

    def translate(self, source_locale, target_locale, strings):  # type: ignore[no-untyped-def]
        return {
            string: StringValue.from_plaintext(
                GLOSSARY.get(string.render_text(), string.render_text())
            )
            for string in strings
        }

    def can_translate(self, source_locale, target_locale):  # type: ignore[no-untyped-def]
        return target_locale.language_code == "pl"
