"""The demo firm's people, services, customers and the texts its visits produce (see seed_demo)."""

from datetime import time, timedelta

from journal.models import Channel

SEED = 4711
DAYS_BACK = 7
DAYS_AHEAD = 7

OFFICE_PASSWORD = "doorstep-office"
TECH_PASSWORD = "doorstep-tech"
FIRM_DOMAIN = "haustechnik-brinkmann.example"

FIRM = {
    "name": "Haustechnik Brinkmann GmbH",
    "email": f"info@{FIRM_DOMAIN}",
    "phone": "+49 2821 71930",
    "street": "Flutstraße 52",
    "postcode": "47533",
    "city": "Kleve",
    "website": f"https://www.{FIRM_DOMAIN}",
    # Kleve is in North Rhine-Westphalia: its public holidays (e.g. Corpus Christi) are closed days too.
    "holiday_subdivision": "NW",
}

OFFICE_USER = {
    "username": "office",
    "first_name": "Sandra",
    "last_name": "Brinkmann",
    "email": f"s.brinkmann@{FIRM_DOMAIN}",
    "direct_phone": "+49 2821 719312",
}

BOILER, GAS, HEAT_PUMP = "Boiler maintenance", "Gas safety check", "Heat pump installation"

SERVICE_TYPES = [
    {
        "name": BOILER,
        "name_de": "Heizungswartung",
        "name_nl": "CV-ketel onderhoud",
        "duration": timedelta(hours=1),
        "arrival_window": timedelta(hours=4),
        "buffer_after": timedelta(minutes=30),
    },
    {
        "name": GAS,
        "name_de": "Gas-Sicherheitsprüfung",
        "name_nl": "Gasveiligheidscontrole",
        "duration": timedelta(minutes=45),
        "arrival_window": timedelta(hours=4),
        "buffer_after": timedelta(minutes=15),
    },
    {
        "name": HEAT_PUMP,
        "name_de": "Wärmepumpen-Installation",
        "name_nl": "Installatie warmtepomp",
        "duration": timedelta(hours=6),
        "arrival_window": timedelta(hours=2),
        "buffer_after": timedelta(hours=1),
    },
]

TECHNICIANS = [
    {
        "username": "tech.jan",
        "first_name": "Jan",
        "last_name": "Verhaag",
        "email": f"j.verhaag@{FIRM_DOMAIN}",
        "mobile_phone": "+49 151 40718263",
        "service_types": [BOILER, GAS, HEAT_PUMP],
    },
    {
        "username": "tech.mia",
        "first_name": "Mia",
        "last_name": "Kempkes",
        "email": f"m.kempkes@{FIRM_DOMAIN}",
        "mobile_phone": "+49 160 9182736",
        "service_types": [BOILER, GAS],
    },
]

# Monday to Friday, with a half-hour lunch break.
WORKING_HOURS = [(time(7, 30), time(12, 0)), (time(12, 30), time(16, 30))]

# Mia is away on a half-day course next Wednesday afternoon.
TIME_OFF_USERNAME = "tech.mia"
# The whole firm's closure: the first Friday after the planned visits, so customers see it missing.
CLOSURE_REASON = "Schulungstag (ganzes Team)"
TIME_OFF_REASON = "Schulung Wärmepumpentechnik (Handwerkskammer)"

# full_name, email, phone, street, postcode, city, country, language, channel, notes
# fmt: off
CUSTOMERS = [
    ("Klaus Hendricks", "klaus.hendricks@example.com", "+49 2821 24817", "Hagsche Straße 34", "47533", "Kleve",
     "DE", "de", "email", ""),
    ("Monika van de Loo", "monika.vandeloo@example.com", "+49 151 24718365", "Lindenallee 12", "47533", "Kleve",
     "DE", "de", "email", ""),
    ("Heinz Janssen", "h.janssen@example.com", "+49 2821 31562", "Kavarinerstraße 51", "47533", "Kleve",
     "DE", "de", "letter", "Hört schlecht – bitte lange klingeln."),
    ("Ursula Terhorst", "ursula.terhorst@example.com", "+49 2822 71934", "Steinstraße 8", "46446",
     "Emmerich am Rhein", "DE", "de", "phone", ""),
    ("Peter Verhoeven", "peter.verhoeven@example.com", "+49 170 5523891", "'s-Heerenberger Straße 112", "46446",
     "Emmerich am Rhein", "DE", "de", "email", ""),
    ("Brigitte Schmitz", "brigitte.schmitz@example.com", "+49 2823 41827", "Voßstraße 17", "47574", "Goch",
     "DE", "de", "phone", ""),
    ("Thomas Derksen", "thomas.derksen@example.com", "+49 160 4417283", "Klever Straße 89", "47574", "Goch",
     "DE", "de", "email", "Gas-Brennwerttherme im Dachboden."),
    ("Sabine Kersting", "sabine.kersting@example.com", "+49 2824 50931", "Monrestraße 5", "47546", "Kalkar",
     "DE", "de", "email", ""),
    ("Wilhelm Tebest", "wilhelm.tebest@example.com", "+49 2826 91477", "Große Straße 41", "47559", "Kranenburg",
     "DE", "de", "letter", "Schlüssel bei der Nachbarin, Frau Evers (Nr. 43)."),
    ("Gisela Hövelmann", "gisela.hoevelmann@example.com", "+49 2821 89214", "Uedemer Straße 160", "47551",
     "Bedburg-Hau", "DE", "de", "phone", ""),
    ("Stefan Arntz", "stefan.arntz@example.com", "+49 151 63829174", "Tiergartenstraße 66", "47533", "Kleve",
     "DE", "de", "email", ""),
    ("Andrea Giesen", "andrea.giesen@example.com", "+49 2851 58833", "Dellstraße 22", "46459", "Rees",
     "DE", "de", "email", ""),
    ("Jürgen Elsinghorst", "juergen.elsinghorst@example.com", "+49 2822 53107", "Wassenbergstraße 3", "46446",
     "Emmerich am Rhein", "DE", "de", "phone", "Hund im Garten, bitte vorne klingeln."),
    ("Karin Peters", "karin.peters@example.com", "+49 2837 19236", "Wasserstraße 14", "47652", "Weeze",
     "DE", "de", "email", ""),
    ("Michael Wolters", "michael.wolters@example.com", "+49 176 31245876", "Nassauerallee 29", "47533", "Kleve",
     "DE", "de", "email", "Interessiert an Wärmepumpe, Angebot aus dem Frühjahr."),
    ("Renate Hüsges", "renate.huesges@example.com", "+49 2825 93118", "Mosterstraße 7", "47589", "Uedem",
     "DE", "de", "letter", ""),
    ("Frank Lamers", "frank.lamers@example.com", "+49 157 38192745", "Bahnhofstraße 30", "47574", "Goch",
     "DE", "de", "email", ""),
    ("Elke Bruns", "elke.bruns@example.com", "+49 2824 96022", "Altkalkarer Straße 18", "47546", "Kalkar",
     "DE", "de", "phone", ""),
    ("Dieter Kuypers", "dieter.kuypers@example.com", "+49 2826 5361", "Klever Straße 102", "47559", "Kranenburg",
     "DE", "de", "phone", ""),
    ("Christa Wilmsen", "christa.wilmsen@example.com", "+49 2821 17735", "Emmericher Straße 188", "47533", "Kleve",
     "DE", "de", "email", ""),
    ("Markus Schoofs", "markus.schoofs@example.com", "+49 172 8364019", "Kaßstraße 15", "46446",
     "Emmerich am Rhein", "DE", "de", "email", ""),
    ("Petra Evers", "petra.evers@example.com", "+49 2826 91488", "Große Straße 43", "47559", "Kranenburg",
     "DE", "de", "email", ""),
    ("Norbert Hermsen", "norbert.hermsen@example.com", "+49 2832 23447", "Hauptstraße 61", "47623", "Kevelaer",
     "DE", "de", "phone", "Vermieter; Mieterin Frau Kamps öffnet."),
    ("Anja Bollen", "anja.bollen@example.com", "+49 152 29173648", "Hoffmannallee 45", "47533", "Kleve",
     "DE", "de", "email", ""),
    ("Hildegard Thissen", "hildegard.thissen@example.com", "+49 2823 3108", "Gaesdoncker Straße 9", "47574", "Goch",
     "DE", "de", "letter", "Bitte am Vortag auf dem Festnetz anrufen."),
    ("Sebastian Kühn", "sebastian.kuehn@example.com", "+49 173 4471920", "Gruftstraße 2", "47533", "Kleve",
     "DE", "de", "email", ""),
    ("Johan de Vries", "johan.devries@example.net", "+31 6 28471936", "Zyfflicher Straße 7", "47559", "Kranenburg",
     "DE", "nl", "email", "Wohnt seit 2019 in Kranenburg, spricht lieber Niederländisch."),
    ("Anouk Jansen", "anouk.jansen@example.net", "+31 24 3234567", "Groesbeekseweg 212", "6524 DM", "Nijmegen",
     "NL", "nl", "email", ""),
    ("Gerrit van den Berg", "gerrit.vandenberg@example.net", "+31 24 3971234", "Berg en Dalseweg 88", "6522 BV",
     "Nijmegen", "NL", "nl", "phone", ""),
    ("Marieke Bakker", "marieke.bakker@example.net", "+31 6 41938275", "Dorpsstraat 19", "6561 CA", "Groesbeek",
     "NL", "nl", "email", ""),
    ("Sander Willemsen", "sander.willemsen@example.net", "+31 314 661234", "Emmerikseweg 45", "7041 AE",
     "'s-Heerenberg", "NL", "nl", "email", ""),
    ("Femke Hendriks", "femke.hendriks@example.net", "+31 316 523344", "Kerkstraat 27", "6901 AG", "Zevenaar",
     "NL", "nl", "phone", ""),
    ("Ruud Verbeek", "ruud.verbeek@example.net", "+31 481 431276", "Heerbaan 52", "6566 EM",
     "Millingen aan de Rijn", "NL", "nl", "email", ""),
    ("Ingrid van Dijk", "ingrid.vandijk@example.net", "+31 485 512398", "Zandstraat 11", "6591 DE", "Gennep",
     "NL", "nl", "letter", ""),
    ("Bas Peters", "bas.peters@example.net", "+31 6 19283746", "Hatertseweg 301", "6533 GX", "Nijmegen",
     "NL", "nl", "email", ""),
    ("Lotte Smits", "lotte.smits@example.net", "+31 6 53817294", "Eltener Markt 4", "46446", "Emmerich am Rhein",
     "DE", "nl", "email", ""),
    ("Sarah Mitchell", "sarah.mitchell@example.org", "+49 151 72836154", "Lindenallee 71", "47533", "Kleve",
     "DE", "en", "email", "Spricht kaum Deutsch, bitte auf Englisch."),
    ("David Thompson", "david.thompson@example.org", "+49 2823 926614", "Weezer Straße 40", "47574", "Goch",
     "DE", "en", "phone", ""),
    ("Emma Clarke", "emma.clarke@example.org", "+31 6 21829304", "Sint Annastraat 140", "6524 GH", "Nijmegen",
     "NL", "en", "email", ""),
    ("James O'Connor", "james.oconnor@example.org", "+49 2821 592038", "Landwehr 12", "47533", "Kleve",
     "DE", "en", "email", ""),
]
# fmt: on

VISIT_NOTES = [
    "",
    "",
    "",
    "Bitte 30 Minuten vorher anrufen.",
    "Heizungsraum im Keller, Zugang über die Garage.",
    "Parken im Hof möglich.",
    "Therme zeigt Störung F28.",
    "Wartungsvertrag, jährlicher Termin.",
    "Kunde ist nur vormittags zu Hause.",
]
REPORTS = {
    BOILER: [
        "Brenner gereinigt, Abgaswerte in Ordnung.",
        "Wärmetauscher gereinigt, Zündelektrode ersetzt.",
        "Anlagendruck auf 1,8 bar nachgefüllt, Ausdehnungsgefäß geprüft.",
        "Wartung ohne Befund.",
    ],
    GAS: [
        "Gasleitung dicht, Prüfprotokoll hinterlassen.",
        "Gebrauchsfähigkeit bestätigt, Absperrhahn Küche erneuert.",
        "Prüfung ohne Mängel.",
    ],
    HEAT_PUMP: [
        "Außeneinheit gesetzt, Hydraulik angeschlossen, Inbetriebnahme erfolgt.",
        "Wärmepumpe installiert und eingewiesen; Restarbeiten Elektrik nächste Woche.",
    ],
}
MISSED_NOTES = [
    "Zweimal geklingelt, Karte eingeworfen.",
    "Niemand geöffnet, Nachbarn wussten nichts. Karte im Briefkasten.",
    "Tor verschlossen, telefonisch nicht erreichbar.",
]
CANCEL_REASONS = [
    "Kunde hat telefonisch abgesagt: Heizung läuft wieder.",
    "Kunde ist krank und meldet sich für einen neuen Termin.",
    "Kunde verreist, Termin wird nach den Ferien nachgeholt.",
    "Wartung bereits über die Hausverwaltung erledigt.",
]
RESCHEDULE_LATER_REASONS = ["Kunde bat um einen späteren Termin.", "Ersatzteil wird erst später geliefert."]
RESCHEDULE_EARLIER_REASON = "Kunde bat um einen früheren Termin; Lücke im Plan genutzt."
RESCHEDULE_MISSED_REASON = "Nicht angetroffen; neuer Termin telefonisch vereinbart."

# Arrival windows start here; with 4-hour windows a technician has a morning and an
# afternoon visit, and a heat pump installation takes the whole day.
SLOT_STARTS = {"am": time(8, 0), "pm": time(12, 30), "day": time(8, 0)}
SLOT_WINDOWS = {"am": (time(8, 0), time(12, 0)), "pm": (time(12, 30), time(16, 30))}
CHANNEL_FOR_PREFERENCE = {"email": Channel.EMAIL, "phone": Channel.PHONE, "letter": Channel.PHONE}

# My desk's story (#12): what the office promised a few demo customers, by index into CUSTOMERS. `due` is
# "overdue" (three hours ago), "today 1" / "today 2" (later today), "next week", or "before visit" (the
# afternoon before the customer's next booked visit, which the promise is tied to); each moved to a quarter
# hour in office hours (settings.OFFICE_HOURS, desk.working_time), as a clerk would promise it.
PROMISES = [
    (
        0,
        "call_back",
        "overdue",
        "Rückruf erbeten: Heizung macht nachts Geräusche, möchte wissen ob das gefährlich ist.",
    ),
    (1, "send_quote", "today 1", "Angebot Wärmepumpe (Luft/Wasser, 9 kW) mit Förderantrag BEG zusenden."),
    (3, "reply_mail", "today 2", "Fragt per E-Mail, ob die Wartung auch samstags möglich ist."),
    (5, "check", "next week", "Klären, ob das Ersatzteil für den Brenner (Vaillant ecoTEC) lieferbar ist."),
    (None, "call_before_visit", "before visit", "Vor dem Termin anrufen: Hund im Garten, Zugang über den Hof."),
]
