"""Real ``--json`` documents of every report kind validate against their published JSON Schemas."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from report_data import tables
from result_data import check_document, fairness_document
from test_audit_report import audit_documents
from test_machine_formats import performance_document

import mlaudit.schemas
from mlaudit.errors import InputError
from mlaudit.schemas import KINDS, schema
from mlaudit.stats.drift import DriftDetector


def _validate(doc: dict[str, Any]) -> None:
    doc = json.loads(json.dumps(doc))  # as stored and read back
    jsonschema.Draft202012Validator(schema(doc["kind"])).validate(doc)


@pytest.mark.parametrize("kind", KINDS)
def test_schemas_are_valid_draft_2020_12_with_a_version(kind: str) -> None:
    s = schema(kind)
    jsonschema.Draft202012Validator.check_schema(s)
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert s["properties"]["schema_version"]["const"] == 1
    assert s["$id"] == f"urn:mlaudit:schema:{kind}:v1"


def test_schema_files_ship_inside_the_package() -> None:
    folder = Path(mlaudit.schemas.__file__).parent
    assert sorted(p.name for p in folder.glob("*.schema.json")) == sorted(f"{k}.schema.json" for k in KINDS)
    with pytest.raises(InputError):
        schema("lineage_graph")


def test_real_documents_validate(drift_case: Any, reference_profile: Any) -> None:
    _validate(reference_profile.to_dict())
    _validate(drift_case[0].to_dict())
    ref, cur = tables(n=600)
    multi = DriftDetector(multivariate=True).fit(ref.drop(["comment"])).compare(cur.drop(["comment"]))
    _validate(multi.to_dict())
    _validate(check_document())
    _validate(fairness_document())
    _validate(performance_document())
    for doc in audit_documents().values():
        _validate(doc)
        for section in doc["sections"]:  # the documents inside the audit that have a schema
            inner = section["document"]
            if isinstance(inner, dict) and inner.get("kind") in ("fairness_report", "drift_report"):
                _validate(inner)


def test_schemas_reject_broken_documents() -> None:
    doc = check_document()
    for breaks in (
        lambda d: d.update(schema_version=2),
        lambda d: d["results"][0].update(status="maybe"),
        lambda d: d.pop("rows"),
        lambda d: d["results"][0]["details"].update(offending=-1),
    ):
        broken = copy.deepcopy(doc)
        breaks(broken)
        with pytest.raises(jsonschema.ValidationError):
            _validate(broken)
