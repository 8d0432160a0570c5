"""JUnit XML for CodeBuild report groups (and any CI that reads JUnit).

One ``<testsuite>`` per service/environment; in it one ``<testcase>`` per rule that found something:
a ``<failure>`` for errors, ``<skipped>`` with the message for warnings (CodeBuild lists skipped cases
apart, with their message, and a warning must not fail the report), and one passing ``no errors`` case
per environment whose checks all passed, so that the report counts passes. Info findings go to the
suite's ``<system-out>``.

XML 1.0 forbids most control characters, lone surrogates and U+FFFE/U+FFFF even as character
references; ElementTree escapes ``&<>"`` but writes those as they are, and a JUnit reader then refuses
the whole report. They are shown escaped instead, once, over the serialised document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from ..findings import INFO
from .located import Located, Scope, qualified
from .terminal import printable

PASSED = "no errors"
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_characters(document: str) -> str:
    """``document`` with every character XML 1.0 forbids shown escaped (``\\x1b``), as the terminal shows it."""
    return _NOT_XML.sub(lambda match: printable(match.group()), document)


def junit(items: Sequence[Located], scope: Scope, title: str) -> str:
    root = ET.Element("testsuites", name=title)
    totals = {"tests": 0, "failures": 0}
    for service, environment in scope.environments:
        found = [item for item in items if (item.service, item.environment) == (service, environment)]
        name = qualified(service, environment)
        suite = ET.SubElement(root, "testsuite", name=name)
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        by_rule: dict[str, list[Located]] = {}
        for item in found:
            if item.finding.severity != INFO:
                by_rule.setdefault(item.finding.rule, []).append(item)
        for rule_id, listed in by_rule.items():
            case = ET.SubElement(suite, "testcase", name=rule_id, classname=name)
            counts["tests"] += 1
            errors = [item for item in listed if item.finding.is_error]
            text = "\n".join(item.finding.to_text() for item in listed)
            if errors:
                element = ET.SubElement(case, "failure", message=errors[0].finding.to_text(), type=rule_id)
                counts["failures"] += 1
            else:
                element = ET.SubElement(case, "skipped", message=listed[0].finding.to_text())
                counts["skipped"] += 1
            element.text = text
        if not any(item.finding.is_error for item in found):
            ET.SubElement(suite, "testcase", name=PASSED, classname=name)
            counts["tests"] += 1
        notes = [item.finding.to_text() for item in found if item.finding.severity == INFO]
        if notes:
            ET.SubElement(suite, "system-out").text = "\n".join(notes)
        for key, value in counts.items():
            suite.set(key, str(value))
        suite.set("errors", "0")
        totals["tests"] += counts["tests"]
        totals["failures"] += counts["failures"]
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    ET.indent(root)
    return xml_characters('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n")
