"""PII discovery: checksums against the standards' worked examples, precision/recall on a
generated labelled table, decoys that must stay clean, and no raw value in any output."""

from __future__ import annotations

import json
import random
from collections import Counter
from functools import cache

import pyarrow as pa
import pytest
from pii_data import card, email, iban, labelled_table, phone

from mlaudit.data import pii
from mlaudit.data.pii import PiiFinding, identify, mask, scan
from mlaudit.errors import InputError

CHECKSUM_TYPES = ("credit_card", "iban", "national_id")
ALL_TYPES = ("email", "phone", "credit_card", "iban", "national_id", "ip_address", "person_name")


@cache
def labelled() -> tuple[pa.Table, dict[str, str | None], dict[str, list[str | None]], list[PiiFinding]]:
    table, labels, cells = labelled_table(400, seed=7)
    return table, labels, cells, scan(table)


def precision_recall(tp: int, fp: int, fn: int) -> tuple[float, float]:
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def column_metrics() -> dict[str, tuple[float, float]]:
    _, labels, _, findings = labelled()
    truth = {(col, t) for col, label in labels.items() if label for t in label.split("+")}
    found = {(f.column, f.pii_type) for f in findings}
    out = {}
    for t in ALL_TYPES:
        tp = len({x for x in found & truth if x[1] == t})
        fp = len({x for x in found - truth if x[1] == t})
        fn = len({x for x in truth - found if x[1] == t})
        out[t] = precision_recall(tp, fp, fn)
    return out


def value_metrics(*, in_flagged_columns: bool) -> dict[str, tuple[float, float]]:
    """Per checksum type, over every cell of the table: ``identify`` against the cell label;
    with ``in_flagged_columns`` a cell only counts as found when scan also flagged its column."""
    table, _, cells, findings = labelled()
    flagged = {(f.column, f.pii_type) for f in findings}
    counts: Counter[tuple[str, str]] = Counter()
    for name in table.column_names:
        for value, label in zip(table.column(name).to_pylist(), cells[name], strict=True):
            got = identify(value) if isinstance(value, (str, int)) else None
            predicted = got[0] if got else None
            if in_flagged_columns and (name, predicted) not in flagged:
                predicted = None
            for t in CHECKSUM_TYPES:
                if predicted == t and label == t:
                    counts[t, "tp"] += 1
                elif predicted == t:
                    counts[t, "fp"] += 1
                elif label == t:
                    counts[t, "fn"] += 1
    return {t: precision_recall(counts[t, "tp"], counts[t, "fp"], counts[t, "fn"]) for t in CHECKSUM_TYPES}


# ------------------------------------------------------------------------ checksums, worked examples
def test_luhn_worked_examples() -> None:
    assert pii._luhn_ok("79927398713")  # the example in ISO/IEC 7812 descriptions
    assert not pii._luhn_ok("79927398710")
    assert identify("4111 1111 1111 1111") == ("credit_card", "visa")
    assert identify("5555555555554444") == ("credit_card", "mastercard")
    assert identify("378282246310005") == ("credit_card", "amex")
    assert identify("6011111111111117") == ("credit_card", "discover")
    assert identify("4111 1111 1111 1112") is None
    assert identify(4111111111111111) == ("credit_card", "visa")


def test_iban_worked_examples() -> None:
    assert identify("GB82 WEST 1234 5698 7654 32") == ("iban", "GB")  # ISO 13616 / ECBS example
    assert identify("DE89 3704 0044 0532 0130 00") == ("iban", "DE")
    assert identify("gb82west12345698765432") == ("iban", "GB")
    assert identify("GB83 WEST 1234 5698 7654 32") is None  # wrong check digits
    assert identify("GB82 WEST 1234 5698 7654 3") is None  # wrong length for GB


@pytest.mark.parametrize(
    ("value", "scheme"),
    [
        ("111222333", "nl_bsn"),  # 9·1+8·1+7·1+6·2+5·2+4·2+3·3+2·3−1·3 = 66 = 6·11
        ("811218-9876", "se_personnummer"),  # Skatteverket's example
        ("19811218-9876", "se_personnummer"),
        ("12345678Z", "es_dni"),  # 12345678 mod 23 = 14 → Z
        ("X1234567L", "es_nie"),  # X → 0: 01234567 mod 23 = 19 → L
        ("44051401359", "pl_pesel"),  # the PESEL example of the Polish ministry
        ("131052-308T", "fi_hetu"),  # DVV's example
        ("2 55 08 14 168 025 38", "fr_nir"),  # 2550814168025 mod 97 = 59 → key 97 − 59 = 38
        ("1 79 12 2A 123 456 51", "fr_nir"),  # Corsica: 2A counts as 19: 97 − 1791219123456 mod 97 = 51
        ("536-90-4399", "us_ssn"),
    ],
)
def test_national_id_worked_examples(value: str, scheme: str) -> None:
    assert identify(value) == ("national_id", scheme)


@pytest.mark.parametrize(
    "value",
    ["111222334", "811218-9875", "12345678A", "44051401358", "131052-308U", "2 55 08 14 168 025 39",
     "000-12-3456", "666-12-3456", "912-12-3456", "536-00-4399", "811318-9876"],
)  # fmt: skip
def test_national_id_failures(value: str) -> None:
    assert identify(value) is None


def test_ip_addresses() -> None:
    assert identify("192.168.0.1") == ("ip_address", "ipv4")
    assert identify("2001:db8::8a2e:370:7334") == ("ip_address", "ipv6")
    assert identify("::1") is None  # too little to call it an address in data
    assert identify("256.1.1.1") is None
    assert identify("12:30:45") is None
    assert identify("00:1A:2B:3C:4D:5E") is None  # a MAC address


# ---------------------------------------------------------------------------- the labelled table
def test_column_level_precision_recall() -> None:
    metrics = column_metrics()
    print("column-level precision/recall:", metrics)
    for t in CHECKSUM_TYPES:
        assert min(metrics[t]) >= 0.95, (t, metrics[t])
    # the generated table is clean enough that the format types are found exactly too
    for t in ("email", "phone", "ip_address", "person_name"):
        assert metrics[t] == (1.0, 1.0), (t, metrics[t])


def test_value_level_precision_recall_of_checksum_types() -> None:
    flagged = value_metrics(in_flagged_columns=True)
    raw = value_metrics(in_flagged_columns=False)
    print("value-level (scan):", flagged, "value-level (identify alone):", raw)
    for t in CHECKSUM_TYPES:
        assert min(flagged[t]) >= 0.95, (t, flagged[t])
        assert min(raw[t]) >= 0.95, (t, raw[t])


def test_identify_and_scan_agree_on_whole_values() -> None:
    """``identify`` runs the patterns with Python's ``re``, ``scan`` with RE2: same counts."""
    table, labels, _, findings = labelled()
    for f in findings:
        if f.detail != "embedded" and labels[f.column] == f.pii_type:
            values = table.column(f.column).to_pylist()
            assert f.matched == sum((identify(v) or ("",))[0] == f.pii_type for v in values), f.column


def test_decoys_are_not_flagged() -> None:
    _, labels, _, findings = labelled()
    decoys = {name for name, label in labels.items() if label is None}
    assert {"row_id", "order_id", "price", "amount", "order_date", "tracking_no", "bad_iban"} <= decoys
    assert [f.column for f in findings if f.column in decoys] == []


def test_mixed_column_and_min_share() -> None:
    _, _, cells, findings = labelled()
    ref = next(f for f in findings if f.column == "payment_ref")
    assert (ref.pii_type, ref.matched) == ("iban", cells["payment_ref"].count("iban"))
    assert ref.confidence < next(f for f in findings if f.column == "iban").confidence
    table = labelled()[0].select(["payment_ref"])
    assert scan(table, min_share=0.5) == []


def test_embedded_email_and_phone_in_free_text() -> None:
    _, _, cells, findings = labelled()
    found = {f.pii_type: f for f in findings if f.column == "comment"}
    assert set(found) == {"email", "phone"}
    assert found["email"].detail == found["phone"].detail == "embedded"
    assert found["email"].matched == cells["comment"].count("email")
    assert found["phone"].matched == cells["comment"].count("phone")


def test_names_in_free_text_and_unicode() -> None:
    notes = ["Spoke to Dr Ødegård about it", "my name is Zoë Łukasiewicz", "Ayşe Yılmaz called",
             "Дмитрий Иванов approved", "no name in this one"]  # fmt: skip
    [found] = scan({"notes": notes})
    assert (found.pii_type, found.matched, found.detail) == ("person_name", 4, "embedded")
    assert found.confidence < 0.6  # heuristic
    names = scan({"owner": ["Søren Ødegård", "José García-Müller", "Mr O'Brien", "Wang Wei"]})
    assert [(f.pii_type, f.matched) for f in names] == [("person_name", 4)]


# ------------------------------------------------------------------------------- no raw values out
def test_findings_never_contain_a_raw_value() -> None:
    table, _, cells, findings = labelled()
    serialised = json.dumps([f.to_dict() for f in findings], ensure_ascii=False)
    for name in table.column_names:
        for value, label in zip(table.column(name).to_pylist(), cells[name], strict=True):
            if label is not None:
                assert str(value) not in serialised, (name, label)
    for f in findings:
        assert all("*" in example for example in f.examples), f


def test_embedded_examples_hold_only_the_masked_hit() -> None:
    rng = random.Random(3)
    values = [f"Mail {email(rng)} or ring {phone(rng)} re order 1234" for _ in range(30)]
    serialised = json.dumps([f.to_dict() for f in scan({"note": values})])
    assert "Mail" not in serialised and "order" not in serialised
    for value in values:
        for part in value.split(" or ring "):
            assert part.removeprefix("Mail ") not in serialised


def test_mask_formats() -> None:
    assert mask("john.doe@example.com", "email") == "j***@e***.com"
    assert mask("4242424242424242", "credit_card") == "**** **** **** 4242"
    assert mask("4242-4242-4242-4242", "credit_card") == "****-****-****-4242"
    assert mask("DE89 3704 0044 0532 0130 00", "iban") == "DE** **** **** **** **30 00"
    assert mask("+44 20 7946 0958", "phone") == "+** ** **** **58"
    assert mask("536-90-4399", "national_id") == "***-**-**99"
    assert mask("192.168.1.20", "ip_address") == "192.*.*.*"
    assert mask("2001:db8::1", "ip_address") == "2001:****:****:…"
    assert mask("Dr Zoë Łukasiewicz", "person_name") == "D*** Z*** Ł***"
    assert mask("AB1", "national_id") == "***"


def test_mask_keeps_only_the_last_four_card_digits() -> None:
    rng = random.Random(5)
    for _ in range(200):
        number = card(rng, rng.choice(["visa", "mastercard", "amex", "discover"]))
        masked = mask(number, "credit_card")
        assert masked.replace(" ", "").endswith(number[-4:])
        assert sum(ch.isdigit() for ch in masked) == 4


# ----------------------------------------------------------------------------------- edges and API
def test_the_column_name_is_a_hint_never_a_finding() -> None:
    rng = random.Random(1)
    assert scan({"email": ["n/a", "unknown", "none given"] * 10}) == []
    plain, hinted = scan({"x": [iban(rng) for _ in range(10)], "iban": [iban(rng) for _ in range(10)]})
    assert (plain.column, hinted.column) == ("x", "iban")
    assert hinted.confidence > plain.confidence


def test_version_strings_are_not_ip_addresses() -> None:
    versions = ["2.0.13.1", "1.4.0.220", "3.1.2.9"] * 5
    assert scan({"version": versions}) == []
    assert [f.pii_type for f in scan({"v": versions})] == ["ip_address"]  # documented: same syntax


def test_integer_columns() -> None:
    rng = random.Random(2)
    ids = [rng.randint(100_000_000, 999_999_999) for _ in range(5000)]  # ~9 % pass the BSN 11-test
    assert scan({"id": list(range(5000)), "order": ids, "cents": [rng.randint(0, 10**6) for _ in ids]}) == []
    [f] = scan({"cc": [int(card(rng, "visa")) for _ in range(50)]})
    assert (f.pii_type, f.matched, f.detail) == ("credit_card", 50, "visa")


def test_empty_table_null_and_blank_columns() -> None:
    assert scan(pa.table({"a": pa.array([], pa.string())})) == []
    assert scan({"a": pa.array([None, None], pa.string()), "b": ["", "  "]}) == []
    emails = ["a@example.com", None, "b@example.com", None]
    assert [(f.matched, f.sampled) for f in scan({"e": emails})] == [(2, 2)]
    assert scan({"f": [1.5, 2.5], "d": pa.array([1, 2], pa.date32())}) == []


def test_sample_is_bounded_and_seeded() -> None:
    rng = random.Random(4)
    values = [email(rng) if rng.random() < 0.5 else "none" for _ in range(3000)]
    a = scan({"c": values}, sample_rows=500, seed=1)
    assert a[0].sampled == 500
    assert a == scan({"c": values}, sample_rows=500, seed=1)
    assert scan({"c": values}, sample_rows=500, seed=2)[0].matched != a[0].matched


def test_columns_and_bad_arguments() -> None:
    data = {"a": ["x@example.com"] * 3, "b": ["y@example.com"] * 3}
    assert [f.column for f in scan(data, columns=["b"])] == ["b"]
    with pytest.raises(InputError) as err:
        scan(data, columns=["c"])
    assert err.value.column == "c"
    with pytest.raises(InputError):
        scan(data, sample_rows=0)
    with pytest.raises(InputError):
        scan(data, min_share=1.5)


def test_dictionary_and_large_string_columns() -> None:
    values = pa.array(["a@example.com", "b@example.com"] * 5)
    table = pa.table({"d": values.dictionary_encode(), "l": values.cast(pa.large_string())})
    assert [(f.column, f.pii_type) for f in scan(table)] == [("d", "email"), ("l", "email")]


def test_to_dict_shape() -> None:
    [f] = scan({"mail": ["ann@example.com", "bo@example.org"]})
    d = f.to_dict()
    assert d == {"column": "mail", "pii_type": "email", "confidence": f.confidence, "matched": 2,
                 "sampled": 2, "share": 1.0, "examples": ["a***@e***.com", "b***@e***.org"],
                 "detail": "format"}  # fmt: skip
    assert 0.0 < f.confidence <= 1.0
