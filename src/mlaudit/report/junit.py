"""Audits and rule checks as JUnit XML, which CI systems (GitLab, Jenkins, GitHub actions that
read test reports) show as test results.

An audit becomes one ``<testsuite>`` per audit section and one ``<testcase>`` per Result
(``classname`` = section, ``name`` = check): ``fail`` is a ``<failure>``, ``error`` an
``<error>``, ``warn`` passes with its finding in ``<system-out>``, and a skipped section is a
single ``<skipped>`` test case. A check report becomes one suite with a test case per rule.
Properties carry the model, suite and status. Text is cleaned of characters XML cannot hold.

>>> doc = {"kind": "check_report", "rows": 1, "results": [
...     {"check": "unique(id)", "status": "fail", "value": 2, "threshold": 0,
...      "details": {"rule": "unique", "rows": 1, "offending": 2}}]}
>>> '<failure message="unique(id): 2 of 1 rows offend' in to_junit(doc)
True
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from mlaudit.errors import InputError
from mlaudit.report.audit_report import finding_todo
from mlaudit.report.blocks import mapping
from mlaudit.report.check_report import sentence, todo

__all__ = ["to_junit"]

Doc = Mapping[str, Any]

_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DETAILS_LIMIT = 4000


def _clean(value: Any) -> str:
    """Text XML 1.0 can hold (control characters and lone surrogates become U+FFFD)."""
    return _INVALID.sub("\ufffd", "" if value is None else str(value))


def _details(r: Doc) -> str:
    d = r.get("details")
    text = json.dumps(d if isinstance(d, Mapping) else {}, default=str, ensure_ascii=False)
    return text if len(text) <= _DETAILS_LIMIT else text[:_DETAILS_LIMIT] + "\n… (cut)"


def _body(r: Doc, message: str, todo_text: str) -> str:
    return _clean(
        f"{message}\nvalue: {r.get('value')}  threshold: {r.get('threshold')}\n"
        f"what to do: {todo_text}\ndetails: {_details(r)}"
    )


def _case(parent: ET.Element, classname: str, r: Doc, message: str, todo_text: str, seconds: float) -> None:
    case = ET.SubElement(
        parent, "testcase", classname=_clean(classname), name=_clean(r.get("check")), time=f"{seconds:.3f}"
    )
    status = r.get("status")
    if status == "fail":
        ET.SubElement(case, "failure", message=_clean(message), type="fail").text = _body(
            r, message, todo_text
        )
    elif status == "error":
        ET.SubElement(case, "error", message=_clean(message), type="error").text = _body(
            r, message, todo_text
        )
    elif status == "warn":
        ET.SubElement(case, "system-out").text = _clean(f"WARNING: {message}\nwhat to do: {todo_text}")


def _count(suite: ET.Element) -> dict[str, int]:
    cases = suite.findall("testcase")
    counts = {
        "tests": len(cases),
        "failures": sum(1 for c in cases if c.find("failure") is not None),
        "errors": sum(1 for c in cases if c.find("error") is not None),
        "skipped": sum(1 for c in cases if c.find("skipped") is not None),
    }
    for key, n in counts.items():
        suite.set(key, str(n))
    return counts


def _properties(parent: ET.Element, props: Sequence[tuple[str, Any]]) -> None:
    kept = [(k, v) for k, v in props if v not in (None, "")]
    if kept:
        node = ET.SubElement(parent, "properties")
        for k, v in kept:
            text = str(v).lower() if isinstance(v, bool) else v
            ET.SubElement(node, "property", name=_clean(k), value=_clean(text))


def _finish(root: ET.Element, seconds: float) -> str:
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        for k, n in _count(suite).items():
            totals[k] += n
    for k, n in totals.items():
        root.set(k, str(n))
    root.set("time", f"{seconds:.3f}")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _audit(doc: Doc) -> str:
    model = mapping(doc.get("model"))
    suite_info = mapping(doc.get("suite"))
    ref = model.get("ref") or model.get("name") or f"{model.get('framework') or 'unnamed'} model"
    root = ET.Element("testsuites", name=_clean(f"mlaudit audit {ref}"))
    messages = {
        (str(f.get("section")), str(f.get("check"))): f
        for f in doc.get("findings") or []
        if isinstance(f, Mapping)
    }
    recorded = mapping(doc.get("recorded"))
    props = [
        ("model", ref),
        ("model.framework", model.get("framework")),
        ("model.fingerprint", model.get("fingerprint")),
        ("suite", suite_info.get("name")),
        ("suite.source", suite_info.get("source")),
        ("status", doc.get("status")),
        ("started", doc.get("started")),
        ("result", recorded.get("result")),
        ("ledger.seq", recorded.get("seq")),
    ]
    stamp = str(doc.get("started") or "")[:19]
    for s in doc.get("sections") or []:
        if not isinstance(s, Mapping):
            continue
        name = str(s.get("name"))
        seconds = float(s.get("seconds") or 0.0)
        suite = ET.SubElement(root, "testsuite", name=_clean(s.get("title") or name), time=f"{seconds:.3f}")
        if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", stamp):
            suite.set("timestamp", stamp)
        _properties(suite, [*props, ("section", name)])
        results = [r for r in s.get("results") or [] if isinstance(r, Mapping)]
        if s.get("skipped") and not results:
            case = ET.SubElement(suite, "testcase", classname=_clean(name), name=_clean(name), time="0.000")
            ET.SubElement(case, "skipped", message=_clean(s.get("skipped")))
            continue
        each = seconds / len(results) if results else 0.0
        for r in results:
            f = messages.get((name, str(r.get("check"))))
            message = str((f or {}).get("message") or f"{r.get('check')}: {r.get('status')}")
            todo_text = finding_todo(f) if f else ""
            _case(suite, name, r, message, todo_text, each)
    return _finish(root, float(doc.get("seconds") or 0.0))


def _check(doc: Doc, name: str) -> str:
    root = ET.Element("testsuites", name=_clean(name))
    suite = ET.SubElement(root, "testsuite", name=_clean(name), time="0.000")
    _properties(suite, [("rows", doc.get("rows")), ("passed", doc.get("passed"))])
    for r in doc.get("results") or []:
        if isinstance(r, Mapping):
            _case(suite, "data_quality", r, sentence(r), todo(r) if r.get("status") != "pass" else "", 0.0)
    return _finish(root, 0.0)


def to_junit(document: Mapping[str, Any], *, name: str | None = None) -> str:
    """JUnit XML for an ``audit_report`` or ``check_report`` document (``name`` names the run)."""
    if not isinstance(document, Mapping):
        raise InputError("not a report document", hint="pass AuditReport.to_dict() or CheckReport.to_dict()")
    kind = document.get("kind")
    if kind == "audit_report":
        return _audit(document)
    if kind == "check_report":
        return _check(document, name or "mlaudit check")
    raise InputError(
        f"no JUnit XML for report kind {kind!r}", hint="JUnit XML is made for audit_report and check_report"
    )
