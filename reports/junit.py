"""JUnit XML for CI test reporters (Jenkins, GitHub, GitLab), rendered from results.json.

One <testsuite> per protocol; one <testcase> per check with name = check id. fail -> <failure>,
error -> <error>, skip -> <skipped>; warn passes (a SHOULD is not a MUST) but says so in <system-out>,
unless the run was --strict, where it is a <failure> too.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from conformance.wire.transcript import render_event

# Characters XML 1.0 cannot carry (C0 controls but TAB/LF/CR, surrogates, U+FFFE/U+FFFF); a server can
# send any of them, and transcripts keep what it sent.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{{{ord(m.group()):x}}}", text or "")


def render(doc: dict[str, Any]) -> str:
    strict = bool(doc.get("run", {}).get("options", {}).get("strict"))
    root = ET.Element("testsuites", name="wireproof")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for proto in sorted({r["protocol"] for r in doc["results"]}):
        rs = [r for r in doc["results"] if r["protocol"] == proto]
        suite = ET.SubElement(root, "testsuite", name=proto)
        counts = {"tests": len(rs), "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
        for r in rs:
            case = ET.SubElement(suite, "testcase", name=r["id"], classname=f"wireproof.{proto}",
                                 time=f"{r['duration_s']:.3f}")
            counts["time"] += r["duration_s"]
            message = _clean(f"[{r['level']} {' '.join(r['rfc'])}] {r['reason']}")
            detail = _clean(f"requirement: {r['requirement']}\nexpected: {r['expected']}\nobserved: {r['observed']}"
                            f"\nreproduce: {r.get('reproduce', '')}")
            v = r["verdict"]
            if v == "fail" or (v == "warn" and strict):
                ET.SubElement(case, "failure", message=message, type=v).text = detail
                counts["failures"] += 1
            elif v == "error":
                ET.SubElement(case, "error", message=message, type="error").text = detail
                counts["errors"] += 1
            elif v == "skip":
                ET.SubElement(case, "skipped", message=_clean(r["reason"]))
                counts["skipped"] += 1
            out = [f"verdict: {v}"] + ([f"warning: {message}"] if v == "warn" else [])
            out += [render_event(ev) for ev in r.get("transcript", [])]
            ET.SubElement(case, "system-out").text = _clean("\n".join(out))
        for k, val in counts.items():
            suite.set(k, f"{val:.3f}" if k == "time" else str(val))
            totals[k] += val
    for k, val in totals.items():
        if k != "skipped":  # the Jenkins schema has no skipped count on <testsuites>
            root.set(k, f"{val:.3f}" if k == "time" else str(val))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
