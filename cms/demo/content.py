"""Demo content: one newsletter issue in English with German, Romanian and
Bulgarian translations, and a directory of contacts across Europe."""

# English source text, keyed by what it is, and its translations keyed by the
# English text (that is how wagtail-localize's PO files identify segments).
ISSUE = {
    "title": "Newsletter 1: Report-back from Bucharest",
    "slug": "newsletter-1",
    "subject": "Bucharest meeting: what parliamentarians agreed on trafficking",
    "preheader": "Key messages, recommendations and how to report back to your parliament.",
    "heading_1": "Parliamentarians agree on joint action",
    "paragraph_1": (
        "Members of parliament from twelve countries met in Bucharest to discuss labour "
        "exploitation and child trafficking. They agreed to raise three questions in their "
        "national parliaments before the summer."
    ),
    "alt": "Members of parliament seated around a conference table in Bucharest",
    "caption": "The network meeting in Bucharest",
    "heading_2": "What you can do",
    "paragraph_2": (
        "Use the report-back pack to brief your colleagues, and share it with the committee "
        "that follows trafficking in your parliament."
    ),
    "cta_text": "Read about the Council of Europe's action against trafficking",
    "cta_url": "https://www.coe.int/en/web/anti-human-trafficking",
}

TRANSLATIONS = {
    "de": {
        "title": "Newsletter 1: Bericht aus Bukarest",
        "slug": "newsletter-1-bukarest",
        "subject": "Treffen in Bukarest: Was Abgeordnete gegen Menschenhandel vereinbart haben",
        "preheader": "Kernbotschaften, Empfehlungen und wie Sie Ihrem Parlament berichten.",
        "heading_1": "Abgeordnete vereinbaren gemeinsames Handeln",
        "paragraph_1": (
            "Abgeordnete aus zwölf Ländern trafen sich in Bukarest, um über Arbeitsausbeutung "
            "und Kinderhandel zu beraten. Sie vereinbarten, vor dem Sommer drei Fragen in "
            "ihren nationalen Parlamenten zu stellen."
        ),
        "alt": "Abgeordnete an einem Konferenztisch in Bukarest",
        "caption": "Das Netzwerktreffen in Bukarest",
        "heading_2": "Was Sie tun können",
        "paragraph_2": (
            "Nutzen Sie das Informationspaket, um Ihre Kolleginnen und Kollegen zu "
            "unterrichten, und teilen Sie es mit dem Ausschuss, der sich in Ihrem Parlament "
            "mit Menschenhandel befasst."
        ),
        "cta_text": "Mehr über die Arbeit des Europarats gegen Menschenhandel",
    },
    "ro": {
        "title": "Buletinul 1: Raport de la București",
        "slug": "buletinul-1-bucuresti",
        "subject": "Reuniunea de la București: ce au convenit parlamentarii privind traficul",
        "preheader": "Mesaje-cheie, recomandări și cum să raportați parlamentului dumneavoastră.",
        "heading_1": "Parlamentarii convin asupra unei acțiuni comune",
        "paragraph_1": (
            "Membri ai parlamentelor din douăsprezece țări s-au reunit la București pentru a "
            "discuta despre exploatarea prin muncă și traficul de copii. Aceștia au convenit "
            "să adreseze trei întrebări în parlamentele lor naționale înainte de vară."
        ),
        "alt": "Parlamentari așezați în jurul unei mese de conferință la București",
        "caption": "Reuniunea rețelei de la București",
        "heading_2": "Ce puteți face",
        "paragraph_2": (
            "Folosiți pachetul de raportare pentru a vă informa colegii și transmiteți-l "
            "comisiei care se ocupă de traficul de persoane în parlamentul dumneavoastră."
        ),
        "cta_text": "Aflați mai multe despre acțiunea Consiliului Europei împotriva traficului",
    },
    "bg": {
        "title": "Бюлетин 1: Доклад от Букурещ",
        "slug": "byuletin-1-bukuresht",
        "subject": "Срещата в Букурещ: за какво се договориха парламентаристите",
        "preheader": "Основни послания, препоръки и как да докладвате пред своя парламент.",
        "heading_1": "Парламентаристите се договарят за съвместни действия",
        "paragraph_1": (
            "Народни представители от дванадесет държави се срещнаха в Букурещ, за да "
            "обсъдят трудовата експлоатация и трафика на деца. Те се договориха да поставят "
            "три въпроса в своите национални парламенти преди лятото."
        ),
        "alt": "Народни представители около конферентна маса в Букурещ",
        "caption": "Срещата на мрежата в Букурещ",
        "heading_2": "Какво можете да направите",
        "paragraph_2": (
            "Използвайте пакета за докладване, за да информирате колегите си, и го "
            "споделете с комисията, която следи трафика на хора във вашия парламент."
        ),
        "cta_text": "Научете повече за действията на Съвета на Европа срещу трафика",
    },
}

# (first name, last name, kind, country, preferred language, fallbacks)
CONTACTS = [
    ("Anna", "Schmidt", "mp", "DE", "de", []),
    ("Jonas", "Weber", "mp", "DE", "de", ["en"]),
    ("Lena", "Hofer", "mp", "AT", "de", ["en"]),
    ("Markus", "Gruber", "parliament_staff", "AT", "de", []),
    ("Ioana", "Popescu", "mp", "RO", "ro", ["en"]),
    ("Andrei", "Ionescu", "mp", "RO", "ro", []),
    ("Elena", "Dumitru", "ngo", "RO", "ro", ["en"]),
    ("Mihai", "Stan", "law_enforcement", "RO", "ro", []),
    ("Georgi", "Ivanov", "mp", "BG", "bg", ["en"]),
    ("Maria", "Petrova", "mp", "BG", "bg", []),
    ("Dimitar", "Georgiev", "government", "BG", "bg", ["en"]),
    ("Katarzyna", "Nowak", "mp", "PL", "pl", ["ro", "en"]),
    ("Piotr", "Kowalski", "mp", "PL", "pl", ["en"]),
    ("Agnieszka", "Wiśniewska", "ngo", "PL", "pl", ["de", "en"]),
    ("Sanne", "de Vries", "mp", "NL", "nl", ["en"]),
    ("Pieter", "Jansen", "business", "NL", "nl", ["de", "en"]),
    ("Ana", "Silva", "mp", "PT", "pt", ["en"]),
    ("João", "Santos", "law_enforcement", "PT", "pt", []),
    ("Giulia", "Rossi", "mp", "IT", "it", ["en"]),
    ("Marco", "Bianchi", "ngo", "IT", "it", ["en"]),
    ("Claire", "Dubois", "mep", "FR", "fr", ["pt", "en"]),
    ("Luc", "Martin", "mep", "BE", "fr", ["nl", "de"]),
    ("Eleni", "Papadopoulou", "mp", "GR", "el", ["en"]),
    ("Sarah", "Thompson", "mp", "GB", "en", []),
    ("James", "Wilson", "parliament_staff", "GB", "en", []),
    ("Olivia", "Brown", "secretariat", "GB", "en", []),
    ("Tomás", "Novák", "other", "CZ", "cs", ["de", "en"]),
    ("Fatma", "Yilmaz", "business", "DE", "de", ["en"]),
    ("Ivana", "Horvat", "ngo", "HR", "hr", ["en"]),
    ("Niamh", "Murphy", "government", "IE", "ga", ["en"]),
]
