"""A seeded, labelled table for PII discovery: valid PII made by its own generators, look-alike
decoys that are not PII, and mixed columns.

The check digits here are computed independently of ``mlaudit.data.pii`` (generation, not
validation), so the two implementations check each other.

>>> table, labels, cells = labelled_table(20, seed=1)
>>> labels["card_number"], labels["tracking_no"]
('credit_card', None)
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable

import pyarrow as pa

PiiLabel = str | None


# ------------------------------------------------------------------------------------ checksums
def luhn_digit(body: str) -> str:
    """The digit that makes ``body + digit`` pass Luhn."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def card(rng: random.Random, brand: str) -> str:
    prefix, length = {
        "visa": ("4", 16),
        "mastercard": (rng.choice(["51", "53", "55", "2221", "2720"]), 16),
        "amex": (rng.choice(["34", "37"]), 15),
        "discover": ("6011", 16),
    }[brand]
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    return body + luhn_digit(body)


def bad_luhn_number(rng: random.Random, length: int = 16) -> str:
    body = "".join(rng.choice(string.digits) for _ in range(length - 1))
    good = luhn_digit(body)
    return body + rng.choice([d for d in string.digits if d != good])


def formatted_card(rng: random.Random) -> str:
    number = card(rng, rng.choice(["visa", "mastercard", "amex", "discover"]))
    style = rng.random()
    if style < 0.4:
        return number
    sep = " " if style < 0.8 else "-"
    if len(number) == 15:
        return sep.join([number[:4], number[4:10], number[10:]])
    return sep.join(number[i : i + 4] for i in range(0, 16, 4))


_BBAN = {  # country: (bank-code letters, digits) of the BBAN, total IBAN length
    "DE": (0, 18), "FR": (0, 23), "GB": (4, 14), "NL": (4, 10), "ES": (0, 20), "IT": (1, 22),
    "BE": (0, 12), "CH": (0, 17), "PL": (0, 24), "NO": (0, 11),
}  # fmt: skip


def iban(rng: random.Random, country: str | None = None, *, valid: bool = True) -> str:
    country = country or rng.choice(sorted(_BBAN))
    letters, digits = _BBAN[country]
    bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(letters))
    bban += "".join(rng.choice(string.digits) for _ in range(digits))
    numeric = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    check = 98 - numeric % 97
    if not valid:
        check = rng.choice([c for c in range(2, 99) if c != check])
    compact = f"{country}{check:02d}{bban}"
    if rng.random() < 0.5:
        return compact
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"


def bsn(rng: random.Random) -> str:
    while True:
        body = [rng.randint(0, 9) for _ in range(8)]
        rest = sum(d * w for d, w in zip(body, range(9, 1, -1), strict=True)) % 11
        if rest < 10 and any(body):
            return "".join(map(str, body)) + str(rest)


def nir(rng: random.Random) -> str:
    dept = rng.choice(["75", "13", "69", "2A", "2B", "33"])
    body = f"{rng.randint(1, 2)}{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}{dept}"
    body += f"{rng.randint(1, 999):03d}{rng.randint(1, 999):03d}"
    numeric = int(body.replace("2A", "19").replace("2B", "18")) if dept in ("2A", "2B") else int(body)
    return f"{body}{97 - numeric % 97:02d}"


def _birth(rng: random.Random) -> tuple[int, int, int]:
    return rng.randint(1930, 2015), rng.randint(1, 12), rng.randint(1, 28)


def personnummer(rng: random.Random) -> str:
    year, month, day = _birth(rng)
    body = f"{year % 100:02d}{month:02d}{day:02d}{rng.randint(0, 999):03d}"
    number = body + luhn_digit(body)
    return f"{number[:6]}-{number[6:]}" if rng.random() < 0.7 else f"{year // 100}{number}"


def dni(rng: random.Random) -> str:
    letters = "TRWAGMYFPDXBNJZSQVHLCKE"
    if rng.random() < 0.7:
        n = rng.randint(0, 99_999_999)
        return f"{n:08d}{letters[n % 23]}"
    lead = rng.randint(0, 2)
    n = rng.randint(0, 9_999_999)
    return f"{'XYZ'[lead]}{n:07d}{letters[int(f'{lead}{n:07d}') % 23]}"


def pesel(rng: random.Random) -> str:
    year, month, day = _birth(rng)
    month += 20 if year >= 2000 else 0
    body = f"{year % 100:02d}{month:02d}{day:02d}{rng.randint(0, 9999):04d}"
    total = sum(int(c) * w for c, w in zip(body, (1, 3, 7, 9) * 3, strict=False))
    return body + str((10 - total % 10) % 10)


def hetu(rng: random.Random) -> str:
    year, month, day = _birth(rng)
    sep = "-" if year < 2000 else "A"
    serial = rng.randint(2, 899)
    key = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(f"{day:02d}{month:02d}{year % 100:02d}{serial:03d}") % 31]
    return f"{day:02d}{month:02d}{year % 100:02d}{sep}{serial:03d}{key}"


# ------------------------------------------------------------------------------- non-checksum PII
GIVEN = ["Maria", "José", "Zoë", "Søren", "Łukasz", "Ayşe", "Kwame", "Priya", "Hiroshi", "Olga",
         "John", "Fatima", "Jürgen", "Chloé", "Дмитрий", "Giulia"]  # fmt: skip
FAMILY = ["García", "Müller", "Łukasiewicz", "Ødegård", "Yılmaz", "Mensah", "Sharma", "Tanaka",
          "O'Brien", "Иванов", "Dubois", "Rossi", "Smith", "Nowak"]  # fmt: skip


def person(rng: random.Random) -> str:
    title = rng.choice(["", "", "", "Dr ", "Mrs ", "Mr "])
    return f"{title}{rng.choice(GIVEN)} {rng.choice(FAMILY)}"


def email(rng: random.Random) -> str:
    user = rng.choice(["ann", "bo.lee", "j_smith", "maria.g", "x99", "li+news"]) + str(rng.randint(1, 999))
    return f"{user}@{rng.choice(['example.com', 'mail.example.org', 'corp.co.uk', 'web.de'])}"


def phone(rng: random.Random) -> str:
    d = lambda k: "".join(rng.choice(string.digits) for _ in range(k))  # noqa: E731
    return rng.choice([
        f"+44 20 {d(4)} {d(4)}", f"+1 ({rng.randint(201, 989)}) {d(3)}-{d(4)}",
        f"({rng.randint(201, 989)}) {d(3)}-{d(4)}", f"{rng.randint(201, 989)}-{d(3)}-{d(4)}",
        f"06 {d(2)} {d(2)} {d(2)} {d(2)}", f"+4915{d(9)}", f"030/{d(7)}",
        f"+33 6 {d(2)} {d(2)} {d(2)} {d(2)}",
        f"06{rng.randint(1, 9)}{d(7)}",
    ])  # fmt: skip


def ip(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return ".".join(str(rng.randint(1 if i == 0 else 0, 255)) for i in range(4))
    groups = [f"{rng.randint(0, 0xFFFF):x}" for _ in range(8)]
    return "2001:db8::" + ":".join(groups[:3]) if rng.random() < 0.5 else ":".join(groups)


# ------------------------------------------------------------------------------------------ decoys
def order_date(rng: random.Random) -> str:
    y, m, d = rng.randint(2015, 2024), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice(
        [f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{m:02d}/{d:02d}/{y}", f"{d:02d}-{m:02d}-{y}"]
    )


def price(rng: random.Random) -> str:
    value = rng.uniform(0.5, 5000)
    return rng.choice([f"{value:.2f}", f"${value:,.2f}", f"{value:,.2f} EUR", f"0.{rng.randint(10, 99)}"])


def product_code(rng: random.Random) -> str:
    return f"SKU-{rng.choice(string.ascii_uppercase)}{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"


def version(rng: random.Random) -> str:
    return f"{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 30)}.{rng.randint(0, 999)}"


_PLAIN = ["Delivered on time, thanks.", "Box was damaged but item fine.", "Please ship faster!",
          "Size runs small; order one up.", "Great value for 12.99", "Returned (ref 2023-11-04)",
          "Works with v2.1.3 firmware", "Five stars, would buy again", "Arrived late, order 88123",
          "Tracking 4000 1234 5678 9011 3 shows nothing"]  # fmt: skip


def comment(rng: random.Random) -> tuple[str, PiiLabel]:
    roll = rng.random()
    if roll < 0.25:
        return f"Contact me at {email(rng)} about the refund.", "email"
    if roll < 0.5:
        return f"Call back on {phone(rng)} after 5pm.", "phone"
    return rng.choice(_PLAIN), None


def description(rng: random.Random) -> str:
    return rng.choice(["Steel frame bike, 21 gears", "Blue cotton shirt, size M", "Oak table 120x80 cm",
                       "USB-C charger 65W", "Ceramic mug, 350 ml", "Hiking boots, waterproof"])  # fmt: skip


# --------------------------------------------------------------------------------------- the table
def labelled_table(
    n: int = 400, seed: int = 0
) -> tuple[pa.Table, dict[str, PiiLabel], dict[str, list[PiiLabel]]]:
    """(table, column label, per-cell labels). A column's label is its PII type or ``None``;
    ``comment`` carries two types, so its column label is ``"email+phone"``."""
    rng = random.Random(seed)
    columns: dict[str, list[object]] = {}
    labels: dict[str, PiiLabel] = {}
    cells: dict[str, list[PiiLabel]] = {}

    def add(name: str, label: PiiLabel, make: Callable[[random.Random], object]) -> None:
        columns[name] = [make(rng) for _ in range(n)]
        labels[name] = label
        cells[name] = [label] * n

    add("email", "email", email)
    add("phone", "phone", phone)
    add("card_number", "credit_card", formatted_card)
    add("card_int", "credit_card", lambda r: int(card(r, r.choice(["visa", "mastercard"]))))
    add("iban", "iban", iban)
    add("ssn", "national_id", ssn)
    add("bsn_int", "national_id", lambda r: int(bsn(r)))
    add("nir", "national_id", nir)
    add("personnummer", "national_id", personnummer)
    add("dni", "national_id", dni)
    add("pesel", "national_id", pesel)
    add("hetu", "national_id", hetu)
    add("ip", "ip_address", ip)
    add("full_name", "person_name", person)
    # mixed: 30 % IBANs among account notes that are not PII
    mixed = [(iban(rng), "iban") if rng.random() < 0.3 else (product_code(rng), None) for _ in range(n)]
    columns["payment_ref"], cells["payment_ref"] = [v for v, _ in mixed], [lab for _, lab in mixed]
    labels["payment_ref"] = "iban"
    pairs = [comment(rng) for _ in range(n)]
    columns["comment"], cells["comment"] = [v for v, _ in pairs], [lab for _, lab in pairs]
    labels["comment"] = "email+phone"
    # decoys
    columns["row_id"], labels["row_id"], cells["row_id"] = list(range(1, n + 1)), None, [None] * n
    add("order_id", None, lambda r: r.randint(100_000_000, 999_999_999))
    add("reference", None, lambda r: str(r.randint(100_000_000, 999_999_999)))
    add("tracking_no", None, bad_luhn_number)
    add("bad_iban", None, lambda r: iban(r, valid=False))
    add("price", None, price)
    add("amount", None, lambda r: round(r.uniform(0, 1000), 2))
    add("order_date", None, order_date)
    add("product_code", None, product_code)
    add("version", None, version)
    add("description", None, description)
    add("zip", None, lambda r: f"{r.randint(1000, 99999):05d}")
    table = pa.table({name: pa.array(values) for name, values in columns.items()})
    return table, labels, cells
