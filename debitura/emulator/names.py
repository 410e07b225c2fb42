"""Hand-written name and place lists for the seed data (no Faker dependency)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Country:
    """What the seed needs to invent plausible parties in one jurisdiction."""

    alpha2: str
    name: str
    currency: str
    phone_prefix: str
    company_suffixes: tuple[str, ...]
    cities: tuple[tuple[str, str, str | None, str | None], ...]  # city, zip, state, state code
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]


COUNTRIES: tuple[Country, ...] = (
    Country(
        "DK",
        "Denmark",
        "DKK",
        "+45",
        ("ApS", "A/S", "I/S"),
        (("København", "2100", None, None), ("Aarhus", "8000", None, None), ("Odense", "5000", None, None)),
        ("Mette", "Lars", "Sofie", "Anders", "Freja", "Rasmus", "Ida", "Mads"),
        ("Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen"),
        ("Vesterbrogade", "Nørregade", "Strandvejen", "Jernbanegade"),
    ),
    Country(
        "SE",
        "Sweden",
        "SEK",
        "+46",
        ("AB", "HB"),
        (
            ("Stockholm", "111 22", None, None),
            ("Göteborg", "411 05", None, None),
            ("Malmö", "211 20", None, None),
        ),
        ("Elin", "Johan", "Maja", "Erik", "Astrid", "Oskar", "Linnea"),
        ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Lindqvist"),
        ("Drottninggatan", "Storgatan", "Kungsgatan", "Sveavägen"),
    ),
    Country(
        "NO",
        "Norway",
        "NOK",
        "+47",
        ("AS", "ASA"),
        (("Oslo", "0150", None, None), ("Bergen", "5003", None, None), ("Trondheim", "7011", None, None)),
        ("Ingrid", "Ole", "Nora", "Henrik", "Sigrid", "Magnus"),
        ("Hansen", "Johansen", "Olsen", "Berg", "Haugen", "Bakken"),
        ("Karl Johans gate", "Storgata", "Bryggen", "Kirkegata"),
    ),
    Country(
        "DE",
        "Germany",
        "EUR",
        "+49",
        ("GmbH", "AG", "UG", "KG"),
        (
            ("Berlin", "10115", "Berlin", None),
            ("Hamburg", "20095", "Hamburg", None),
            ("München", "80331", "Bayern", None),
        ),
        ("Anna", "Lukas", "Lea", "Felix", "Hannah", "Jonas", "Marie", "Paul"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Wagner", "Becker"),
        ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße"),
    ),
    Country(
        "FR",
        "France",
        "EUR",
        "+33",
        ("SARL", "SAS", "SA"),
        (
            ("Paris", "75002", "Île-de-France", None),
            ("Lyon", "69002", None, None),
            ("Marseille", "13001", None, None),
        ),
        ("Camille", "Louis", "Chloé", "Hugo", "Manon", "Lucas", "Léa"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Moreau", "Laurent"),
        ("Rue de la République", "Avenue Victor Hugo", "Rue du Commerce", "Boulevard Voltaire"),
    ),
    Country(
        "NL",
        "Netherlands",
        "EUR",
        "+31",
        ("B.V.", "N.V."),
        (
            ("Amsterdam", "1012 AB", None, None),
            ("Rotterdam", "3011 AD", None, None),
            ("Utrecht", "3511 LX", None, None),
        ),
        ("Sanne", "Daan", "Emma", "Sem", "Julia", "Bram"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "Bakker", "Visser"),
        ("Keizersgracht", "Dorpsstraat", "Kerkstraat", "Stationsweg"),
    ),
    Country(
        "ES",
        "Spain",
        "EUR",
        "+34",
        ("S.L.", "S.A."),
        (
            ("Madrid", "28013", "Madrid", None),
            ("Barcelona", "08002", "Cataluña", None),
            ("Valencia", "46002", None, None),
        ),
        ("Lucía", "Hugo", "Sofía", "Martín", "Paula", "Pablo", "Carmen"),
        ("García", "Fernández", "González", "Rodríguez", "López", "Martínez"),
        ("Calle Mayor", "Gran Vía", "Paseo de Gracia", "Calle de Alcalá"),
    ),
    Country(
        "IT",
        "Italy",
        "EUR",
        "+39",
        ("S.r.l.", "S.p.A."),
        (
            ("Milano", "20121", "Lombardia", None),
            ("Roma", "00184", "Lazio", None),
            ("Torino", "10121", "Piemonte", None),
        ),
        ("Giulia", "Marco", "Chiara", "Luca", "Francesca", "Matteo"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano"),
        ("Via Roma", "Corso Italia", "Via Garibaldi", "Via Dante"),
    ),
    Country(
        "GB",
        "United Kingdom",
        "GBP",
        "+44",
        ("Ltd", "PLC", "LLP"),
        (
            ("London", "EC1A 1BB", "England", None),
            ("Manchester", "M1 1AE", "England", None),
            ("Edinburgh", "EH1 1YZ", "Scotland", None),
        ),
        ("Oliver", "Amelia", "George", "Isla", "Harry", "Olivia", "Jack"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans"),
        ("High Street", "Station Road", "Church Lane", "Victoria Road"),
    ),
    Country(
        "IE",
        "Ireland",
        "EUR",
        "+353",
        ("Ltd", "DAC"),
        (("Dublin", "D02 X285", "Leinster", None), ("Cork", "T12 W8CV", "Munster", None)),
        ("Aoife", "Conor", "Saoirse", "Seán", "Niamh"),
        ("Murphy", "Kelly", "O'Sullivan", "Walsh", "Byrne"),
        ("O'Connell Street", "Grafton Street", "Main Street"),
    ),
    Country(
        "CH",
        "Switzerland",
        "CHF",
        "+41",
        ("AG", "GmbH", "SA"),
        (
            ("Zürich", "8001", "Zürich", None),
            ("Genève", "1201", "Genève", None),
            ("Basel", "4051", "Basel-Stadt", None),
        ),
        ("Noah", "Mia", "Luca", "Lina", "Leon", "Elena"),
        ("Meier", "Keller", "Gerber", "Baumann", "Frei", "Huber"),
        ("Bahnhofstrasse", "Seestrasse", "Rue du Rhône", "Dorfstrasse"),
    ),
    Country(
        "PL",
        "Poland",
        "PLN",
        "+48",
        ("Sp. z o.o.", "S.A."),
        (
            ("Warszawa", "00-001", "Mazowieckie", None),
            ("Kraków", "30-001", "Małopolskie", None),
            ("Gdańsk", "80-001", None, None),
        ),
        ("Zofia", "Jakub", "Julia", "Antoni", "Maja", "Szymon"),
        ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski"),
        ("ul. Marszałkowska", "ul. Długa", "ul. Floriańska", "ul. Piotrkowska"),
    ),
    Country(
        "US",
        "United States",
        "USD",
        "+1",
        ("Inc", "LLC", "Corp"),
        (
            ("San Francisco", "94105", "California", "CA"),
            ("Austin", "78701", "Texas", "TX"),
            ("New York", "10001", "New York", "NY"),
            ("Chicago", "60601", "Illinois", "IL"),
        ),
        ("James", "Emily", "Michael", "Olivia", "David", "Sophia", "Daniel", "Ava"),
        ("Johnson", "Miller", "Davis", "Garcia", "Anderson", "Thompson", "Moore"),
        ("Market Street", "Main Street", "Congress Avenue", "Lake Shore Drive"),
    ),
    Country(
        "CA",
        "Canada",
        "CAD",
        "+1",
        ("Inc", "Ltd", "Corp"),
        (("Toronto", "M5H 2N2", "Ontario", "ON"), ("Vancouver", "V6B 1A1", "British Columbia", "BC")),
        ("Liam", "Charlotte", "Ethan", "Chloe", "Noah"),
        ("Tremblay", "Roy", "Gagnon", "MacDonald", "Campbell"),
        ("Queen Street", "Granville Street", "Yonge Street"),
    ),
    Country(
        "AU",
        "Australia",
        "AUD",
        "+61",
        ("Pty Ltd", "Ltd"),
        (("Sydney", "2000", "New South Wales", "NSW"), ("Melbourne", "3000", "Victoria", "VIC")),
        ("Jack", "Ruby", "William", "Matilda", "Lachlan"),
        ("Wilson", "Kelly", "Ryan", "Walker", "Harris"),
        ("George Street", "Collins Street", "Pitt Street"),
    ),
    Country(
        "JP",
        "Japan",
        "JPY",
        "+81",
        ("K.K.", "G.K."),
        (("Tokyo", "100-0005", "Tokyo", None), ("Osaka", "530-0001", "Osaka", None)),
        ("Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito"),
        ("Marunouchi", "Umeda", "Ginza", "Shibuya"),
    ),
)

COMPANY_WORDS = (
    "Nordic",
    "Atlas",
    "Pacific",
    "Meridian",
    "Harbor",
    "Summit",
    "Granite",
    "Blue Fjord",
    "Lumen",
    "Vertex",
    "Cobalt",
    "Evergreen",
    "Orion",
    "Silverline",
    "Baltic",
    "Alpine",
    "Crescent",
    "Keystone",
    "Aurora",
    "Pioneer",
    "Riverside",
    "Sterling",
    "Zenith",
    "Oakwood",
)
COMPANY_TRADES = (
    "Trading",
    "Logistics",
    "Software",
    "Construction",
    "Foods",
    "Textiles",
    "Consulting",
    "Media",
    "Engineering",
    "Furniture",
    "Wholesale",
    "Medical Supply",
    "Energy",
    "Print",
    "Marine",
    "Retail",
)
CLAIM_DESCRIPTIONS = (
    "Software development services - Project {n}",
    "Delivery of goods, order {n}",
    "Consulting hours, {month}",
    "Annual maintenance contract {n}",
    "Freight services, shipment {n}",
    "Office furniture delivery, PO {n}",
    "Marketing campaign, phase {n}",
    "Equipment rental, contract {n}",
    "Personal loan agreement {n}",
    "Catering services, event {n}",
)
CREDITOR_COMMENTS = (
    "Several reminders sent; the debtor confirmed receipt but cites cash-flow problems.",
    "Debtor stopped answering emails after the second reminder.",
    "Goods were delivered and signed for. No complaints received.",
    "Debtor promised payment twice without paying.",
    "Please handle with care: long-standing customer.",
    None,
)
CREDITOR_MESSAGES = (
    "Any news from the debtor?",
    "The debtor called us today and asked for your contact details.",
    "We have attached the signed delivery note.",
    "Can you confirm the amount the debtor has paid so far?",
    "Please go ahead with the payment plan you suggested.",
    "The debtor says the invoice was paid last week - can you check?",
)
PARTNER_MESSAGES = (
    "We have sent the first demand letter to the debtor.",
    "The debtor has acknowledged the claim and proposed a payment plan.",
    "We reached the debtor by phone; a payment is expected within 14 days.",
    "Could you send us a copy of the original contract?",
    "A partial payment has been received; we continue with the remainder.",
)
NOTE_TEXTS = (
    "Called the debtor; no answer, voicemail left.",
    "Debtor acknowledged the debt and promised to pay within 7 days.",
    "Demand letter sent by registered mail.",
    "Debtor requested a payment plan over three months.",
    "Address verified through the public register.",
)
VALIDATION_ITEMS = (
    ("Documentation", "Upload the original invoice."),
    ("DebtorDetails", "Confirm the debtor's current address."),
    ("ClaimDetails", "State the agreed payment terms."),
    ("Documentation", "Provide the signed contract or order confirmation."),
)
