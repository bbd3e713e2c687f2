"""Demo content: one newsletter issue in English with German, Romanian and
Bulgarian translations, and a directory of contacts across Europe."""

from cms.models import EventPage, ReportBackPackPage

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

# The network's activities: (slug, title, city, country, start, end)
EVENTS = [
    (
        "london-2025",
        "Parliamentary roundtable on labour exploitation",
        "London",
        "GB",
        "2025-03-12",
        "2025-03-13",
    ),
    (
        "berlin-2025",
        "Workshop on supply chains and forced labour",
        "Berlin",
        "DE",
        "2025-04-08",
        "2025-04-09",
    ),
    (
        "bucharest-2025",
        "Network meeting on child trafficking",
        "Bucharest",
        "RO",
        "2025-05-20",
        "2025-05-21",
    ),
    (
        "warsaw-2025",
        "Study visit on victim identification",
        "Warsaw",
        "PL",
        "2025-06-17",
        "2025-06-18",
    ),
    (
        "the-hague-2025",
        "Conference on cross-border investigations",
        "The Hague",
        "NL",
        "2025-09-23",
        "2025-09-24",
    ),
    (
        "sofia-2025",
        "Regional meeting on sexual exploitation online",
        "Sofia",
        "BG",
        "2025-10-14",
        "2025-10-15",
    ),
    (
        "lisbon-2025",
        "Seminar on migrant workers' rights",
        "Lisbon",
        "PT",
        "2025-11-04",
        "2025-11-05",
    ),
    (
        "rome-2026",
        "Annual assembly of the network",
        "Rome",
        "IT",
        "2026-02-10",
        "2026-02-11",
    ),
]

TOPICS = [
    ("child-trafficking", "Child trafficking"),
    ("labour-exploitation", "Labour exploitation"),
    ("sexual-exploitation", "Sexual exploitation"),
]

PACK = {
    "title": "Report-back pack: Bucharest network meeting",
    "slug": "report-back-bucharest",
    "subject": "Your report-back pack from the Bucharest meeting",
    "preheader": "Key messages, questions for your parliament and contacts in your country.",
    "summary": "Members of parliament from twelve countries agreed on joint steps against child trafficking and labour exploitation.",
    "message_1": "Child trafficking is rising online and needs cross-border answers.",
    "message_2": "Victims must be identified early and protected, not punished.",
    "message_3": "Parliaments can follow the money through supply-chain laws.",
    "recommendation_1": "Ask your government for a national referral mechanism for child victims.",
    "recommendation_2": "Support mandatory human-rights due diligence for companies.",
    "question_1": "What is the government doing to identify child victims of trafficking online?",
    "question_2": "Will the government publish data on convictions for labour exploitation?",
    "fact_figure_1": "27.6 million",
    "fact_label_1": "people in forced labour worldwide",
    "fact_source_1": "ILO, 2022",
    "fact_figure_2": "1 in 4",
    "fact_label_2": "registered victims in the EU is a child",
    "fact_source_2": "Eurostat",
    "pass_on": "Share this pack with the committee that follows trafficking in your parliament, and with colleagues who could raise the questions.",
}

PACK_TRANSLATIONS = {
    "de": {
        "title": "Informationspaket: Netzwerktreffen in Bukarest",
        "slug": "informationspaket-bukarest",
        "subject": "Ihr Informationspaket vom Treffen in Bukarest",
        "preheader": "Kernbotschaften, Fragen für Ihr Parlament und Kontakte in Ihrem Land.",
        "summary": "Abgeordnete aus zwölf Ländern vereinbarten gemeinsame Schritte gegen Kinderhandel und Arbeitsausbeutung.",
        "message_1": "Kinderhandel nimmt im Internet zu und braucht grenzüberschreitende Antworten.",
        "message_2": "Betroffene müssen früh erkannt und geschützt, nicht bestraft werden.",
        "message_3": "Parlamente können mit Lieferkettengesetzen den Geldflüssen folgen.",
        "recommendation_1": "Fordern Sie von Ihrer Regierung einen nationalen Verweisungsmechanismus für betroffene Kinder.",
        "recommendation_2": "Unterstützen Sie verpflichtende menschenrechtliche Sorgfaltspflichten für Unternehmen.",
        "question_1": "Was unternimmt die Regierung, um Kinder als Opfer von Menschenhandel im Internet zu erkennen?",
        "question_2": "Wird die Regierung Daten zu Verurteilungen wegen Arbeitsausbeutung veröffentlichen?",
        "fact_figure_1": "27,6 Millionen",
        "fact_label_1": "Menschen in Zwangsarbeit weltweit",
        "fact_source_1": "ILO, 2022",
        "fact_figure_2": "1 von 4",
        "fact_label_2": "registrierten Opfern in der EU ist ein Kind",
        "fact_source_2": "Eurostat",
        "pass_on": "Teilen Sie dieses Paket mit dem Ausschuss, der sich in Ihrem Parlament mit Menschenhandel befasst, und mit Kolleginnen und Kollegen, die die Fragen stellen könnten.",
    },
    "ro": {
        "title": "Pachet de raportare: reuniunea rețelei de la București",
        "slug": "pachet-raportare-bucuresti",
        "subject": "Pachetul dumneavoastră de raportare de la reuniunea de la București",
        "preheader": "Mesaje-cheie, întrebări pentru parlamentul dumneavoastră și contacte din țara dumneavoastră.",
        "summary": "Membri ai parlamentelor din douăsprezece țări au convenit asupra unor pași comuni împotriva traficului de copii și a exploatării prin muncă.",
        "message_1": "Traficul de copii crește în mediul online și necesită răspunsuri transfrontaliere.",
        "message_2": "Victimele trebuie identificate din timp și protejate, nu pedepsite.",
        "message_3": "Parlamentele pot urmări banii prin legi privind lanțurile de aprovizionare.",
        "recommendation_1": "Cereți guvernului un mecanism național de referire pentru copiii victime.",
        "recommendation_2": "Sprijiniți obligația de diligență privind drepturile omului pentru companii.",
        "question_1": "Ce face guvernul pentru a identifica în mediul online copiii victime ale traficului?",
        "question_2": "Va publica guvernul date privind condamnările pentru exploatare prin muncă?",
        "fact_figure_1": "27,6 milioane",
        "fact_label_1": "de persoane în muncă forțată la nivel mondial",
        "fact_source_1": "OIM, 2022",
        "fact_figure_2": "1 din 4",
        "fact_label_2": "victime înregistrate în UE este un copil",
        "fact_source_2": "Eurostat",
        "pass_on": "Transmiteți acest pachet comisiei care se ocupă de traficul de persoane în parlamentul dumneavoastră și colegilor care ar putea adresa întrebările.",
    },
    "bg": {
        "title": "Пакет за докладване: среща на мрежата в Букурещ",
        "slug": "paket-bukuresht",
        "subject": "Вашият пакет за докладване от срещата в Букурещ",
        "preheader": "Основни послания, въпроси към вашия парламент и контакти във вашата държава.",
        "summary": "Народни представители от дванадесет държави се договориха за общи стъпки срещу трафика на деца и трудовата експлоатация.",
        "message_1": "Трафикът на деца в интернет нараства и изисква трансгранични отговори.",
        "message_2": "Жертвите трябва да бъдат идентифицирани рано и защитени, а не наказвани.",
        "message_3": "Парламентите могат да проследят парите чрез закони за веригите на доставки.",
        "recommendation_1": "Поискайте от правителството национален механизъм за насочване на деца жертви.",
        "recommendation_2": "Подкрепете задължителната надлежна проверка за правата на човека от компаниите.",
        "question_1": "Какво прави правителството, за да идентифицира децата жертви на трафик в интернет?",
        "question_2": "Ще публикува ли правителството данни за присъдите за трудова експлоатация?",
        "fact_figure_1": "27,6 милиона",
        "fact_label_1": "души в принудителен труд по света",
        "fact_source_1": "МОТ, 2022",
        "fact_figure_2": "1 от 4",
        "fact_label_2": "регистрирани жертви в ЕС е дете",
        "fact_source_2": "Евростат",
        "pass_on": "Споделете този пакет с комисията, която следи трафика на хора във вашия парламент, и с колеги, които биха могли да поставят въпросите.",
    },
    "el": {
        "title": "Πακέτο ενημέρωσης: συνάντηση του δικτύου στο Βουκουρέστι",
        "slug": "paketo-voukouresti",
        "subject": "Το πακέτο ενημέρωσής σας από τη συνάντηση στο Βουκουρέστι",
        "preheader": "Βασικά μηνύματα, ερωτήσεις για το κοινοβούλιό σας και επαφές στη χώρα σας.",
        "summary": "Βουλευτές από δώδεκα χώρες συμφώνησαν σε κοινά βήματα κατά της εμπορίας παιδιών και της εργασιακής εκμετάλλευσης.",
        "message_1": "Η εμπορία παιδιών αυξάνεται στο διαδίκτυο και χρειάζεται διασυνοριακές απαντήσεις.",
        "message_2": "Τα θύματα πρέπει να αναγνωρίζονται νωρίς και να προστατεύονται, όχι να τιμωρούνται.",
        "message_3": "Τα κοινοβούλια μπορούν να ακολουθήσουν το χρήμα μέσω νόμων για τις αλυσίδες εφοδιασμού.",
        "recommendation_1": "Ζητήστε από την κυβέρνηση εθνικό μηχανισμό παραπομπής για παιδιά θύματα.",
        "recommendation_2": "Υποστηρίξτε την υποχρεωτική δέουσα επιμέλεια των επιχειρήσεων για τα ανθρώπινα δικαιώματα.",
        "question_1": "Τι κάνει η κυβέρνηση για να αναγνωρίζει τα παιδιά θύματα εμπορίας στο διαδίκτυο;",
        "question_2": "Θα δημοσιεύσει η κυβέρνηση στοιχεία για τις καταδίκες για εργασιακή εκμετάλλευση;",
        "fact_figure_1": "27,6 εκατομμύρια",
        "fact_label_1": "άνθρωποι σε καταναγκαστική εργασία παγκοσμίως",
        "fact_source_1": "ΔΟΕ, 2022",
        "fact_figure_2": "1 στα 4",
        "fact_label_2": "καταγεγραμμένα θύματα στην ΕΕ είναι παιδί",
        "fact_source_2": "Eurostat",
        "pass_on": "Μοιραστείτε αυτό το πακέτο με την επιτροπή που παρακολουθεί την εμπορία ανθρώπων στο κοινοβούλιό σας και με συναδέλφους που θα μπορούσαν να θέσουν τις ερωτήσεις.",
    },
}


def demo_pack(event: EventPage) -> ReportBackPackPage:
    """Return the demo report-back pack as an unsaved page, reporting on ``event``."""
    return ReportBackPackPage(
        title=PACK["title"],
        slug=PACK["slug"],
        subject=PACK["subject"],
        preheader=PACK["preheader"],
        event=event,
        summary=f"<p>{PACK['summary']}</p>",
        key_messages=[("point", PACK[f"message_{n}"]) for n in (1, 2, 3)],
        recommendations=[("point", PACK[f"recommendation_{n}"]) for n in (1, 2)],
        questions=[("point", PACK[f"question_{n}"]) for n in (1, 2)],
        facts=[
            (
                "fact",
                {
                    "figure": PACK[f"fact_figure_{n}"],
                    "label": PACK[f"fact_label_{n}"],
                    "source": PACK[f"fact_source_{n}"],
                },
            )
            for n in (1, 2)
        ],
        pass_on=f"<p>{PACK['pass_on']}</p>",
    )
