"""PII discovery: which columns of a table hold personal data, found on a seeded sample.

:func:`scan` looks at up to ``sample_rows`` non-null, non-blank values per column (strings, and
integers for card numbers and national ids stored as numbers). A vectorised RE2 pre-filter
(``pyarrow.compute.match_substring_regex``) picks the candidates of each type; candidates of the
checksum-backed types are then validated in Python (Luhn with IIN/length rules for cards,
ISO 13616 mod-97 with per-country lengths for IBANs, the national-id checksums below). A value
counts for the first type, in :data:`_CHECKS` order, that it validates as. Text that merely
*contains* an email, phone number, IP address, card number, IBAN or name counts with
``detail="embedded"`` (phone numbers only in prose — two words or more — because digit groups
inside codes and account numbers look just like them).

Checksums pass by chance too (one random 9-digit number in eleven is a valid Dutch BSN), so a
checksum scheme is only reported when the share of its candidates that validate is far above
chance (a Chernoff bound, plus at least three times the chance rate). Confidence combines the
evidence (checksum > format > heuristic), the chance-corrected share and the column name as a
hint; the name alone never makes a finding, and a name such as ``version`` or ``build``
suppresses IPv4 findings (``1.2.3.4`` is a valid IPv4 address *and* a four-part version).

National ids: ``us_ssn`` (format and SSA area/group/serial rules, no checksum), ``nl_bsn``
(11-test), ``fr_nir`` (mod-97 key, Corsica 2A/2B), ``se_personnummer`` (Luhn, date),
``es_dni`` / ``es_nie`` (mod-23 letter), ``pl_pesel`` (weighted mod 10, date), ``fi_hetu``
(mod-31 character, date). Person names are a heuristic (titles, "my name is …", a list of
~200 given names followed by a capitalised word): expect misses and some false hits.

Findings and their :meth:`PiiFinding.to_dict` never hold a raw value: examples are masked.

>>> [f.pii_type for f in scan({"contact": ["ann@example.com", "bo@example.org"]})]
['email']
>>> mask("4111 1111 1111 1111", "credit_card")
'**** **** **** 1111'
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlaudit.errors import InputError
from mlaudit.frames import TableLike, to_table

__all__ = ["PiiFinding", "PiiType", "identify", "mask", "scan"]

PiiType = Literal["email", "phone", "credit_card", "iban", "national_id", "ip_address", "person_name"]
_Verdict = tuple[bool, str] | None  # None: not a candidate; (valid, label): a candidate
_Hit = tuple[int, str, str]  # (index in the sample, label, the matching text)
_Validator = Callable[[str], _Verdict]

# ---------------------------------------------------------------------------------------- patterns
# Written in the common subset of RE2 (pyarrow) and Python ``re``: [0-9] not \d, no lookaround.
_EMAIL = r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}"
_PHONE = (
    r"(?:\+|\(0|0)[0-9][0-9 ./()-]{4,18}[0-9]"
    r"|\([2-9][0-9]{2}\) ?[0-9]{3}[ .-][0-9]{4}|[2-9][0-9]{2}[ .-][0-9]{3}[ .-][0-9]{4}"
)
_PROSE = r"(?:^|\s)\pL{2,}[,.:;!?]?\s(?:.*\s)?\pL{2,}[,.:;!?]?(?:\s|$)"  # two words: text, not a code
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_IPV6 = r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}"
_CARD = r"[0-9](?:[ -]?[0-9]){11,18}"
_IBAN = r"[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]){11,30}"
_UP = "A-ZÀ-ÖØ-ÞĀ-ŽА-ЯЁΑ-Ω"
_LO = "a-zß-öø-ÿĀ-žа-яёα-ω"
_WORD = f"[{_UP}](?:[{_LO}]+|['’][{_UP}][{_LO}]+)(?:[{_UP}][{_LO}]+)?(?:[-'’][{_UP}]?[{_LO}]+)*"
_TITLE = r"(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Herr|Frau|Mme|Mlle|Sr|Sra)\.?"
_GIVEN_NAMES = """
James John Robert Michael William David Richard Joseph Thomas Christopher Daniel Matthew Anthony
Steven Andrew Joshua Kenneth Kevin Brian Timothy Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric
Jonathan Stephen Justin Scott Brandon Benjamin Samuel Gregory Patrick Alexander Dennis Tyler Aaron
Henry Peter Nathan Zachary Kyle Noah Ethan Oliver Harry Liam Mary Patricia Jennifer Linda Barbara
Susan Jessica Sarah Karen Nancy Lisa Margaret Sandra Ashley Emily Donna Michelle Carol Amanda
Melissa Deborah Stephanie Rebecca Laura Sharon Cynthia Kathleen Amy Angela Helen Anna Brenda Pamela
Nicole Emma Samantha Katherine Christine Rachel Catherine Heather Julie Olivia Sophia Amelia Isabella
Chloe Lucy Hannah José Juan Carlos Luis Javier Miguel Alejandro Diego Pablo Sergio Fernando Jorge
Antonio Manuel Francisco Pedro Rafael João Thiago Gabriel Lucas Mateus María Maria Carmen Lucía Sofía
Isabel Marta Elena Pilar Beatriz Mariana Camila Valentina Gabriela Fernanda Juliana Jean Pierre
Michel Philippe Alain Nicolas François Julien Guillaume Mathieu Antoine Benoît Sébastien Marie
Nathalie Isabelle Sylvie Céline Camille Léa Chloé Manon Inès Amélie Hélène Zoë Hans Klaus Jürgen
Wolfgang Stefan Andreas Tobias Lukas Felix Jonas Matthias Katrin Sabine Ursula Monika Petra Anke
Pieter Sven Lars Björn Søren Anders Nils Johan Erik Ingrid Astrid Sigrid Freya Annika Kirsten
Saskia Femke Sanne Giuseppe Giovanni Marco Luca Matteo Alessandro Francesco Lorenzo Giulia Chiara
Francesca Alessia Łukasz Piotr Krzysztof Tomasz Paweł Agnieszka Katarzyna Małgorzata Magdalena
Dmitri Dmitry Sergei Vladimir Alexei Olga Tatiana Natalia Svetlana Irina Yulia Дмитрий Сергей Иван
Ольга Наталья Елена Mehmet Mustafa Ahmet Emre Ayşe Fatma Zeynep Elif Mohammed Muhammad Ahmed Omar
Hassan Hussein Yusuf Ibrahim Khalid Fatima Aisha Layla Mariam Zainab Reza Parisa Rahul Amit Rajesh
Sanjay Vikram Arjun Anil Suresh Priya Anjali Deepika Pooja Sunita Lakshmi Aditi Hiroshi Takeshi
Kenji Haruto Yuki Sakura Minjun Seojun Jisoo Minji Kwame Kofi Abena Chinedu Chiamaka Oluwaseun
Adebayo Ngozi Thabo Sipho Nomvula Tendai
""".split()  # noqa: SIM905 - a word list reads better as text
_FAMILY_FIRST = "Wang Zhang Liu Chen Yang Huang Zhao Zhou Nguyen Tran Pham Sato Suzuki Tanaka Kim Choi"
_FIRST = "(?:" + "|".join(_GIVEN_NAMES) + ")"
_FAMILY = "(?:" + _FAMILY_FIRST.replace(" ", "|") + ")"
_NAME_WHOLE = (
    rf"(?:{_TITLE}\s+)?{_FIRST}(?:\s+{_WORD}){{0,3}}|{_TITLE}\s+{_WORD}(?:\s+{_WORD})?"
    rf"|{_FAMILY}\s+{_WORD}|{_WORD},\s*{_FIRST}"
)
_INTRO = r"(?i:my name is|je m'appelle|ich heiße|me llamo|mi chiamo|mijn naam is)"
_NAME_TEXT = rf"{_TITLE}\s+{_WORD}(?:\s+{_WORD})?|{_FIRST}\s+{_WORD}|{_INTRO}\s+{_WORD}(?:\s+{_WORD})?"
_DATE = re.compile(r"[0-9]{1,4}[./-][0-9]{1,2}[./-][0-9]{1,4}")


# -------------------------------------------------------------------------------------- validators
def _luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check over a string of digits: ``_luhn_ok("79927398713")`` is True."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _card_brand(d: str) -> str | None:
    n, p2, p3, p4 = len(d), int(d[:2]), int(d[:3]), int(d[:4])
    if d[0] == "4" and n in (13, 16, 19):
        return "visa"
    if n == 15 and p2 in (34, 37):
        return "amex"
    if n == 16 and (51 <= p2 <= 55 or 2221 <= p4 <= 2720):
        return "mastercard"
    if 16 <= n <= 19 and (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65):
        return "discover"
    if 16 <= n <= 19 and 3528 <= p4 <= 3589:
        return "jcb"
    if (n == 14 and (300 <= p3 <= 305 or p2 in (36, 38, 39))) or (16 <= n <= 19 and p2 == 36):
        return "diners"
    if 16 <= n <= 19 and p2 == 62:
        return "unionpay"
    if 12 <= n <= 19 and (p2 == 50 or 56 <= p2 <= 69):
        return "maestro"
    return None


def _card(value: str) -> _Verdict:
    digits = re.sub(r"[ -]", "", value)
    brand = _card_brand(digits) if 12 <= len(digits) <= 19 else None
    return None if brand is None else (_luhn_ok(digits), brand)


_IBAN_LENGTHS = {
    country: int(length)
    for country, length in re.findall(
        r"([A-Z]{2})([0-9]{2})",
        "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 "
        "EG29 ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 "
        "JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 "
        "PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 ST25 SV28 TL23 TN24 TR26 "
        "UA29 VA22 VG24 XK20",
    )
}


def _iban(value: str) -> _Verdict:
    compact = value.replace(" ", "").upper()
    if _IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum():
        return None
    rearranged = compact[4:] + compact[:4]
    number = int("".join(str(int(ch, 36)) for ch in rearranged))
    return (number % 97 == 1, compact[:2])


def _iban_in_text(hit: str) -> _Verdict:
    compact = hit.replace(" ", "").upper()  # the pattern is greedy: cut at the country's length
    return _iban(compact[: _IBAN_LENGTHS.get(compact[:2], 0)])


_SSN_VOIDED = {"078051120", "219099999", "123456789"}


def _us_ssn(value: str) -> _Verdict:
    d = re.sub(r"[ -]", "", value)
    area, group, serial = int(d[:3]), d[3:5], d[5:]
    ok = area not in (0, 666) and area < 900 and group != "00" and serial != "0000"
    return (ok and d not in _SSN_VOIDED, "us_ssn")


def _nl_bsn(value: str) -> _Verdict:
    d = value.replace(".", "").zfill(9)
    if len(d) != 9 or not d.isdigit() or d == "000000000":
        return None
    total = sum(int(ch) * w for ch, w in zip(d[:8], range(9, 1, -1), strict=True)) - int(d[8])
    return (total % 11 == 0, "nl_bsn")


def _fr_nir(value: str) -> _Verdict:
    c = value.replace(" ", "").upper()
    body = c[:5] + {"2A": "19", "2B": "18"}.get(c[5:7], c[5:7]) + c[7:13]
    if not body.isdigit():
        return None
    return (97 - int(body) % 97 == int(c[13:15]), "fr_nir")


def _date_ok(yy: str, mm: int, dd: int) -> bool:
    return 1 <= mm <= 12 and 1 <= dd <= 31 and yy.isdigit()


def _se_personnummer(value: str) -> _Verdict:
    d = re.sub(r"[-+]", "", value)[-10:]
    day = int(d[4:6])
    if not _date_ok(d[:2], int(d[2:4]), day - 60 if day > 60 else day):
        return None
    return (_luhn_ok(d), "se_personnummer")


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _es_dni(value: str) -> _Verdict:
    c = value.replace("-", "").upper()
    scheme = "es_nie" if c[0] in "XYZ" else "es_dni"
    number = int(str("XYZ".find(c[0])) + c[1:-1]) if scheme == "es_nie" else int(c[:-1])
    return (_DNI_LETTERS[number % 23] == c[-1], scheme)


def _pl_pesel(value: str) -> _Verdict:
    d = value.zfill(11)
    if not _date_ok(d[:2], int(d[2:4]) % 20, int(d[4:6])):
        return None
    total = sum(int(ch) * w for ch, w in zip(d[:10], (1, 3, 7, 9) * 3, strict=False))
    return ((10 - total % 10) % 10 == int(d[10]), "pl_pesel")


_HETU_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"


def _fi_hetu(value: str) -> _Verdict:
    c = value.upper()
    if not _date_ok(c[4:6], int(c[2:4]), int(c[:2])):
        return None
    return (_HETU_CHARS[int(c[:6] + c[7:10]) % 31] == c[10], "fi_hetu")


def _ipv6(value: str) -> _Verdict:
    groups = [g for g in value.split(":") if g]
    if len(groups) < 2 or sum(len(g) for g in groups) < 3:
        return None
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return (False, "ipv6")
    return (True, "ipv6")


def _phone(value: str) -> _Verdict:
    digits = re.sub(r"[^0-9]", "", value)
    plain = digits == value
    if (
        not 7 <= len(digits) <= 15
        or re.search(r"[ ./-]{2,}|[(][^)]*$|^[^(]*[)]", value)
        or _DATE.fullmatch(value)
        or (plain and not re.fullmatch(r"0[1-9][0-9]{8,10}", value))
    ):
        return None
    return (True, "e164" if value.startswith("+") else "national")


@dataclass(frozen=True)
class _Check:
    """One way a whole value can be PII: an RE2/Python pattern, then an optional validator.

    ``chance`` is the share of pattern-shaped candidates a random value passes the validator with
    (``None`` when there is no checksum); ``int_width`` marks checks that also run on integer
    columns, whose values are left-padded with up to two lost leading zeros to that width."""

    pii_type: PiiType
    scheme: str
    pattern: str
    validate: _Validator | None = None
    chance: float | None = None
    strength: float = 0.95
    int_width: int | None = None


_NIR = r"[1-478] ?[0-9]{2} ?[0-9]{2} ?(?:[0-9]{2}|2[ABab]) ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}"
_PERSONNUMMER = r"(?:19|20)?[0-9]{6}[-+][0-9]{4}|(?:19|20)[0-9]{10}"
_CHECKS: tuple[_Check, ...] = (
    _Check("credit_card", "luhn", _CARD, _card, 0.1, int_width=0),
    _Check("iban", "mod97", _IBAN, _iban, 1 / 97),
    _Check("national_id", "fr_nir", _NIR, _fr_nir, 1 / 97, int_width=15),
    _Check("national_id", "se_personnummer", _PERSONNUMMER, _se_personnummer, 0.1, int_width=12),
    _Check("national_id", "es_dni", r"[0-9]{8}-?[A-Za-z]|[XYZxyz]-?[0-9]{7}-?[A-Za-z]", _es_dni, 1 / 23),
    _Check("national_id", "pl_pesel", r"[0-9]{11}", _pl_pesel, 0.1, int_width=11),
    _Check("national_id", "nl_bsn", r"[0-9]{9}|[0-9]{4}\.[0-9]{2}\.[0-9]{3}", _nl_bsn, 1 / 11, int_width=9),
    _Check("national_id", "fi_hetu", r"[0-9]{6}[-+A-FU-Ya-fu-y][0-9]{3}[0-9A-Ya-y]", _fi_hetu, 1 / 31),
    _Check("email", "format", _EMAIL, strength=0.9),
    _Check("ip_address", "ipv4", _IPV4, strength=0.85),
    _Check("ip_address", "ipv6", _IPV6, _ipv6, strength=0.85),
    _Check("national_id", "us_ssn", r"[0-9]{3}[ -][0-9]{2}[ -][0-9]{4}", _us_ssn, strength=0.75),
    _Check("phone", "format", _PHONE, _phone, strength=0.7),
    _Check("person_name", "heuristic", _NAME_WHOLE, strength=0.45),
)

# Embedded hits: (type, Python pattern whose group 1 is the hit, validator). The RE2 pre-filter is
# the bare core; the boundaries keep a phone number from starting inside a longer number.
_EMBEDDED: tuple[tuple[PiiType, str, str, _Validator | None], ...] = (
    ("email", _EMAIL, rf"(?:^|[^A-Za-z0-9._%+'-])({_EMAIL})", None),
    ("phone", _PHONE, rf"(?:^|[^0-9A-Za-z+.@_/-])({_PHONE})(?![0-9@])", _phone),
    ("ip_address", _IPV4, rf"(?:^|[^0-9.])({_IPV4})(?![0-9]|\.[0-9])", None),
    ("ip_address", r"[0-9A-Fa-f]:[0-9A-Fa-f:]*:", rf"(?<![0-9A-Za-z:])({_IPV6})(?![0-9A-Za-z:])", _ipv6),
    ("credit_card", _CARD, rf"(?:^|[^0-9-])({_CARD})(?![0-9])", _card),
    ("iban", r"[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4}", rf"(?:^|[^A-Za-z0-9])({_IBAN})", _iban_in_text),
    ("person_name", _NAME_TEXT, rf"(?:^|[^{_UP}{_LO}])({_NAME_TEXT})", None),
)
_EMBEDDED_RE = [re.compile(p) for _, _, p, _ in _EMBEDDED]
_CHECK_RE = [re.compile(c.pattern) for c in _CHECKS]
_CHANCE = {"credit_card": 0.1, "iban": 1 / 97}

_HINTS: dict[PiiType, tuple[str, ...]] = {
    "email": ("email", "mail"),
    "phone": ("phone", "tel", "telephone", "mobile", "cell", "fax", "msisdn"),
    "credit_card": ("card", "cc", "pan", "credit", "ccnum"),
    "iban": ("iban", "bank", "account"),
    "national_id": ("ssn", "bsn", "nir", "nin", "national", "dni", "nie", "pesel", "personnummer", "hetu"),
    "ip_address": ("ip", "ipv4", "ipv6", "ipaddr", "ipaddress", "host", "remote", "client"),
    "person_name": ("name", "first", "last", "surname", "given", "fullname", "customer", "contact", "author"),
}
_NOT_IP = {"version", "versions", "ver", "release", "build", "revision", "rev", "oid", "firmware"}


# ---------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class PiiFinding:
    """One kind of PII found in one column of the sample; ``examples`` are masked.

    ``matched`` values of ``sampled`` (non-null, non-blank) sampled values are PII of this type,
    ``share = matched / sampled``; ``detail`` names the scheme (``"visa,amex"``, ``"DE,FR"``,
    ``"nl_bsn"``, ``"ipv4"``, ``"heuristic"``) or ``"embedded"`` when the PII sits inside text.

    >>> scan({"ip": ["10.0.0.1", "192.168.1.20"]})[0].to_dict()["examples"]
    ['10.*.*.*', '192.*.*.*']
    """

    column: str
    pii_type: PiiType
    confidence: float
    matched: int
    sampled: int
    share: float
    examples: tuple[str, ...]
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (safe for the ledger: masked examples only)."""
        return {**asdict(self), "examples": list(self.examples)}


@dataclass
class _Tally:
    """Per-column, per-type counts while scanning (mutable scratch, never returned)."""

    whole: int = 0
    embedded: int = 0
    strength: float = 0.0
    corrected: float = 0.0  # chance-corrected number of matches
    labels: set[str] = field(default_factory=set)
    examples: list[str] = field(default_factory=list)

    def add(self, hits: list[_Hit], pii_type: PiiType, *, embedded: bool, corrected: float) -> None:
        if embedded:
            self.embedded += len(hits)
        else:
            self.whole += len(hits)
            self.labels.update(label for _, label, _ in hits)
        self.corrected += corrected
        for _, _, text in hits[:20]:
            masked = mask(text, pii_type)
            if len(self.examples) < 3 and masked not in self.examples:
                self.examples.append(masked)


# ------------------------------------------------------------------------------------------- scan
def scan(
    data: TableLike,
    *,
    sample_rows: int = 10_000,
    min_share: float = 0.1,
    columns: Sequence[str] | None = None,
    seed: int = 0,
) -> list[PiiFinding]:
    """Find PII per column on a seeded sample of ``sample_rows`` non-null values per column.

    A type is reported for a column when at least ``min_share`` of the sampled values hold it
    (and, for checksum types, far more of the candidates validate than chance would give).

    >>> table = {"iban": ["GB82 WEST 1234 5698 7654 32", "DE89 3704 0044 0532 0130 00"]}
    >>> f = scan(table)[0]
    >>> (f.pii_type, f.detail, f.matched, f.examples[0])
    ('iban', 'DE,GB', 2, 'GB** **** **** **** **54 32')
    """
    if sample_rows < 1:
        raise InputError(f"sample_rows must be at least 1, not {sample_rows}")
    if not 0.0 <= min_share <= 1.0:
        raise InputError(f"min_share must be between 0 and 1, not {min_share}")
    table = to_table(data)
    names = list(table.column_names) if columns is None else list(columns)
    for name in names:
        if name not in table.column_names:
            raise InputError("no such column", column=name, hint=f"the table has {table.column_names}")
    findings: list[PiiFinding] = []
    for name in names:
        prepared = _sample(table.column(name), sample_rows, seed)
        if prepared is not None and len(prepared[0]):
            findings.extend(_scan_column(name, *prepared, min_share=min_share))
    return findings


def identify(value: str | int) -> tuple[PiiType, str] | None:
    """What one value is, as a whole, with its scheme: the checks of :func:`scan` (same patterns
    and validators, run with Python's ``re``), without the chance test a column gets.

    >>> identify("4111-1111-1111-1111"), identify("811218-9876"), identify("ticket 42")
    (('credit_card', 'visa'), ('national_id', 'se_personnummer'), None)
    """
    is_int = isinstance(value, int)
    text = str(value).strip()
    for check, regex in zip(_CHECKS, _CHECK_RE, strict=True):
        if is_int and check.int_width is None:
            continue
        subject = text.zfill(check.int_width) if is_int and check.int_width else text
        if len(subject) > len(text) + 2 or not regex.fullmatch(subject):
            continue
        verdict = check.validate(subject) if check.validate else (True, check.scheme)
        if verdict is not None and verdict[0]:
            return check.pii_type, verdict[1]
    return None


def _sample(column: pa.ChunkedArray, rows: int, seed: int) -> tuple[pa.Array, bool] | None:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.cast(kind.value_type), kind.value_type
    is_int = pa.types.is_integer(kind)
    is_text = pa.types.is_string(kind) or pa.types.is_large_string(kind)
    is_text = is_text or (hasattr(pa.types, "is_string_view") and pa.types.is_string_view(kind))
    if not (is_int or is_text):
        return None
    values = pc.drop_null(column)
    if is_text:
        values = pc.utf8_trim_whitespace(values.cast(pa.string()))
        values = values.filter(pc.greater(pc.utf8_length(values), 0))
    if len(values) > rows:
        picks = np.sort(np.random.default_rng(seed).choice(len(values), rows, replace=False))
        values = values.take(pa.array(picks))
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if is_int:
        values = pc.filter(values, pc.greater_equal(values, 0)).cast(pa.string())
    return values, is_int


def _whole_hits(texts: pa.Array, is_int: bool, assigned: np.ndarray) -> list[tuple[_Check, list[_Hit], int]]:
    """Per check, the values it claims and its candidate count, for the checks whose hits beat
    chance; claimed values are marked in ``assigned`` so that later checks skip them."""
    out: list[tuple[_Check, list[_Hit], int]] = []
    for check in _CHECKS:
        if is_int and check.int_width is None:
            continue
        subject = texts
        if is_int and check.int_width:  # leading zeros are lost when an id is stored as a number
            short = pc.greater_equal(pc.utf8_length(texts), check.int_width - 2)
            subject = pc.if_else(short, pc.utf8_lpad(texts, check.int_width, "0"), texts)
        found = pc.match_substring_regex(subject, f"^(?:{check.pattern})$").to_numpy(zero_copy_only=False)
        idx = np.flatnonzero(found & ~assigned)
        if len(idx) == 0:
            continue
        values = subject.take(pa.array(idx)).to_pylist()
        verdicts = [check.validate(v) if check.validate else (True, check.scheme) for v in values]
        hits = [(int(i), v[1], text) for i, v, text in zip(idx, verdicts, values, strict=True) if v and v[0]]
        candidates = sum(v is not None for v in verdicts)
        if _beats_chance(len(hits), candidates, check.chance):
            assigned[[i for i, _, _ in hits]] = True
            out.append((check, hits, candidates))
    return out


def _beats_chance(valid: int, candidates: int, chance: float | None) -> bool:
    """Whether ``valid`` of ``candidates`` passing a checksum is unlikely to be luck: at least
    three times the chance rate, and a Chernoff bound on P(≥ valid | chance) below 1 %."""
    if chance is None or valid == 0:
        return valid > 0
    q = valid / candidates
    if q < min(0.5, 3 * chance):
        return False
    kl = q * math.log(q / chance) + ((1 - q) * math.log((1 - q) / (1 - chance)) if q < 1 else 0.0)
    return math.exp(-candidates * kl) < 0.01


def _corrected(valid: int, candidates: int, chance: float | None) -> float:
    if chance is None:
        return float(valid)
    return max(0.0, (valid - chance * candidates) / (1 - chance))


def _scan_column(name: str, texts: pa.Array, is_int: bool, *, min_share: float) -> list[PiiFinding]:
    assigned = np.zeros(len(texts), dtype=bool)
    tallies: dict[PiiType, _Tally] = {}
    for check, hits, candidates in _whole_hits(texts, is_int, assigned):
        tally = tallies.setdefault(check.pii_type, _Tally())
        tally.strength = max(tally.strength, check.strength)
        corrected = _corrected(len(hits), candidates, check.chance)
        tally.add(hits, check.pii_type, embedded=False, corrected=corrected)
    if not is_int:
        _scan_embedded(texts, assigned, tallies)
    return _findings(name, len(texts), tallies, min_share)


def _scan_embedded(texts: pa.Array, assigned: np.ndarray, tallies: dict[PiiType, _Tally]) -> None:
    for (pii_type, prefilter, _, validate), finder in zip(_EMBEDDED, _EMBEDDED_RE, strict=True):
        found = pc.match_substring_regex(texts, prefilter).to_numpy(zero_copy_only=False)
        if pii_type == "phone":  # digit groups inside codes look like phone numbers: prose only
            found &= pc.match_substring_regex(texts, _PROSE).to_numpy(zero_copy_only=False)
        idx = np.flatnonzero(found & ~assigned)
        if len(idx) == 0:
            continue
        hits: list[_Hit] = []
        candidates = 0
        for i, text in zip(idx, texts.take(pa.array(idx)).to_pylist(), strict=True):
            spans = [m.group(1) for m in finder.finditer(text)]
            verdicts = [(span, validate(span) if validate else (True, "")) for span in spans]
            candidates += any(v is not None for _, v in verdicts)
            good = next((span for span, v in verdicts if v and v[0]), None)
            if good is not None:
                hits.append((int(i), "embedded", good))
        chance = _CHANCE.get(pii_type)
        if _beats_chance(len(hits), candidates, chance):
            tally = tallies.setdefault(pii_type, _Tally())
            strength = 0.9 * max(c.strength for c in _CHECKS if c.pii_type == pii_type)
            tally.strength = max(tally.strength, strength)
            tally.add(hits, pii_type, embedded=True, corrected=_corrected(len(hits), candidates, chance))


def _findings(name: str, n: int, tallies: dict[PiiType, _Tally], min_share: float) -> list[PiiFinding]:
    tokens = _name_tokens(name)
    out = []
    for pii_type, tally in tallies.items():
        matched = tally.whole + tally.embedded
        share = matched / n
        if matched == 0 or share < min_share:
            continue
        if pii_type == "ip_address" and _NOT_IP.intersection(tokens):
            continue
        evidence = min(1.0, tally.corrected / n / 0.5)
        confidence = tally.strength * (0.5 + 0.5 * evidence)
        if any(t == h or (len(h) > 3 and t.startswith(h)) for t in tokens for h in _HINTS[pii_type]):
            confidence += (1.0 - confidence) * 0.5
        detail = ",".join(sorted(tally.labels)) if tally.whole >= tally.embedded else "embedded"
        out.append(
            PiiFinding(name, pii_type, round(confidence, 3), matched, n, share, tuple(tally.examples), detail)
        )
    return sorted(out, key=lambda f: -f.confidence)


def _name_tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    return [t for t in re.split(r"[^a-z0-9]+", spaced.lower()) if t]


# ------------------------------------------------------------------------------------------- mask
def mask(value: str, pii_type: PiiType) -> str:
    """``value`` with its identifying part starred out, keeping only what helps a reader.

    >>> mask("john.doe@example.com", "email"), mask("DE89 3704 0044 0532 0130 00", "iban")
    ('j***@e***.com', 'DE** **** **** **** **30 00')
    >>> mask("+44 20 7946 0958", "phone"), mask("Zoë Łukasiewicz", "person_name")
    ('+** ** **** **58', 'Z*** Ł***')
    """
    v = value.strip()
    if pii_type == "email" and "@" in v:
        local, _, domain = v.rpartition("@")
        tld = domain.rsplit(".", 1)[1] if "." in domain else ""
        return f"{local[:1]}***@{domain[:1]}***.{tld}"
    if pii_type == "credit_card":
        digits = re.sub(r"[^0-9]", "", v)
        if v != digits:
            return _star(v, keep=4)
        return _group4("*" * max(0, len(digits) - 4) + digits[-4:])
    if pii_type == "iban":
        compact = re.sub(r"[^0-9A-Za-z]", "", v).upper()
        return _group4(compact[:2] + "*" * max(0, len(compact) - 6) + compact[-4:])
    if pii_type == "ip_address":
        try:
            ip = ipaddress.ip_address(v)
        except ValueError:
            return _star(v, keep=0)
        if ip.version == 4:
            return v.split(".")[0] + ".*.*.*"
        return ip.exploded.split(":")[0] + ":****:****:…"
    if pii_type == "person_name":
        return " ".join(w[:1] + "***" for w in v.split())
    return _star(v, keep=2)


def _group4(text: str) -> str:
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def _star(value: str, *, keep: int) -> str:
    """Star every letter and digit except the last ``keep`` (none when the value is short)."""
    alnum = sum(ch.isalnum() for ch in value)
    keep = keep if alnum > 2 * keep + 2 else 0
    out, seen = [], 0
    for ch in value:
        if ch.isalnum():
            seen += 1
            out.append(ch if seen > alnum - keep else "*")
        else:
            out.append(ch)
    return "".join(out)
