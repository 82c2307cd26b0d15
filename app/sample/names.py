"""Name pools of the sample hotel's guests and staff, by region of origin.

Each Region lists the given names, family names, cities and streets of its guests, with the
nationality and telephone country code they go with. Names keep their accents: real PMS data is
not ASCII, and the backup must carry it faithfully.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    nationality: str
    country: str
    phone_code: str
    weight: int
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    cities: tuple[str, ...]
    streets: tuple[str, ...]


REGIONS: tuple[Region, ...] = (
    Region(
        "Sri Lankan", "Sri Lanka", "94", 30,
        ("Amaya", "Nuwan", "Dilini", "Kasun", "Sanduni", "Tharindu", "Ishara", "Chamara", "Nadeesha",
         "Ruwan", "Hiruni", "Lahiru", "Sachini", "Dinesh", "Madhavi", "Pradeep", "Anusha", "Isuru"),
        ("Perera", "Fernando", "Silva", "Jayasinghe", "Bandara", "Wickramasinghe", "Dissanayake",
         "Gunawardena", "Rathnayake", "Herath", "Karunaratne", "Senanayake", "de Alwis", "Peiris"),
        ("Colombo", "Kandy", "Galle", "Negombo", "Jaffna", "Matara", "Kurunegala", "Nuwara Eliya"),
        ("Galle Road", "Temple Road", "Station Road", "Lake Drive", "Hill Street", "Main Street"),
    ),
    Region(
        "Indian", "India", "91", 14,
        ("Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Kavya", "Arjun", "Meera", "Rahul", "Sneha",
         "Karthik", "Divya", "Aditya", "Lakshmi"),
        ("Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Menon", "Rao", "Singh", "Krishnan",
         "Mukherjee", "Chopra"),
        ("Chennai", "Mumbai", "Bengaluru", "Delhi", "Kochi", "Hyderabad", "Pune"),
        ("MG Road", "Park Street", "Anna Salai", "Brigade Road", "Nehru Place", "Marine Drive"),
    ),
    Region(
        "British", "United Kingdom", "44", 12,
        ("Oliver", "Amelia", "George", "Isla", "Harry", "Olivia", "Jack", "Emily", "Charlie", "Sophie",
         "Thomas", "Grace", "William", "Chloe"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Evans", "Thomas",
         "Roberts", "Walker", "Wright", "O'Brien", "Clarke"),
        ("London", "Manchester", "Bristol", "Leeds", "Edinburgh", "Cardiff", "Brighton"),
        ("High Street", "Church Lane", "Victoria Road", "Park Avenue", "Mill Lane", "King's Road"),
    ),
    Region(
        "German", "Germany", "49", 10,
        ("Lukas", "Anna", "Jonas", "Lena", "Felix", "Sophie", "Maximilian", "Marie", "Paul", "Jürgen",
         "Katharina", "Björn", "Sören", "Lea"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer",
         "Hoffmann", "Koch", "Krüger", "Großmann"),
        ("Berlin", "München", "Hamburg", "Köln", "Frankfurt", "Düsseldorf", "Leipzig"),
        ("Hauptstraße", "Schulstraße", "Bahnhofstraße", "Gartenweg", "Lindenallee", "Bergstraße"),
    ),
    Region(
        "French", "France", "33", 7,
        ("Louis", "Chloé", "Gabriel", "Léa", "Raphaël", "Manon", "Jules", "Camille", "Hugo", "Inès",
         "Théo", "Zoé"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Lefèvre", "Moreau",
         "Girard", "Lemaître"),
        ("Paris", "Lyon", "Marseille", "Toulouse", "Nice", "Bordeaux", "Nantes"),
        ("rue de la Paix", "avenue Victor Hugo", "rue du Moulin", "boulevard Voltaire", "rue Pasteur"),
    ),
    Region(
        "Chinese", "China", "86", 8,
        ("Wei", "Fang", "Jing", "Lei", "Min", "Yan", "Hao", "Xiu", "Jun", "Ling", "Tao", "Yu"),
        ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun"),
        ("Shanghai", "Beijing", "Shenzhen", "Guangzhou", "Chengdu", "Hangzhou"),
        ("Nanjing Road", "Huaihai Road", "Jianguo Road", "Renmin Road", "Zhongshan Road"),
    ),
    Region(
        "Australian", "Australia", "61", 7,
        ("Noah", "Charlotte", "Liam", "Mia", "Lachlan", "Ava", "Cooper", "Matilda", "Ethan", "Ruby"),
        ("Smith", "Nguyen", "Kelly", "Murphy", "Ryan", "Campbell", "Mitchell", "Anderson", "Baker"),
        ("Sydney", "Melbourne", "Brisbane", "Perth", "Adelaide", "Hobart"),
        ("George Street", "Collins Street", "Beach Road", "Queen Street", "Ocean Parade"),
    ),
    Region(
        "Japanese", "Japan", "81", 5,
        ("Haruto", "Yui", "Sota", "Hina", "Yuto", "Aoi", "Riku", "Sakura", "Kaito", "Mei"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura"),
        ("Tokyo", "Osaka", "Kyoto", "Yokohama", "Sapporo", "Fukuoka"),
        ("Chuo-dori", "Omotesando", "Meiji-dori", "Sakura-dori", "Kawaramachi"),
    ),
    Region(
        "Russian", "Russia", "7", 4,
        ("Alexei", "Olga", "Dmitri", "Natalia", "Sergei", "Irina", "Ivan", "Elena", "Mikhail"),
        ("Ivanov", "Smirnova", "Kuznetsov", "Popova", "Sokolov", "Lebedeva", "Volkov", "Morozova"),
        ("Moscow", "Saint Petersburg", "Kazan", "Novosibirsk", "Sochi"),
        ("Tverskaya", "Nevsky Prospekt", "Arbat", "Lenina", "Sadovaya"),
    ),
    Region(
        "American", "United States", "1", 8,
        ("James", "Emma", "Michael", "Madison", "Daniel", "Abigail", "Ethan", "Harper", "Mason",
         "Avery", "Logan", "Ella"),
        ("Johnson", "Miller", "Davis", "Garcia", "Rodriguez", "Martinez", "Lopez", "Lee", "Harris",
         "Young", "King"),
        ("New York", "San Francisco", "Chicago", "Boston", "Seattle", "Austin", "Miami"),
        ("Main Street", "Oak Avenue", "Maple Drive", "Elm Street", "Washington Boulevard"),
    ),
)

EMAIL_DOMAINS = (
    "gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com",
    "proton.me", "mail.com", "gmx.de",
)

#: Hotel staff who create bookings and serve guests (usernames and display names).
FRONT_DESK = ("frontdesk.amaya", "frontdesk.ruwan", "frontdesk.sophie", "reservations.kasun")
CHANNEL_MANAGER = "channel-manager"
HOUSEKEEPERS = ("Nimali Perera", "Saman Kumara", "Priya Nair", "Chathura Silva", "Rosa Martins",
                "Kumari Herath", "Anil Fernando", "Mala Dias")
CASHIERS = ("cashier.dilini", "cashier.tharindu", "frontdesk.amaya", "frontdesk.ruwan")
