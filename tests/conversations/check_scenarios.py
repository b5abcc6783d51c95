#!/usr/bin/env python3
"""Static check of a scenario file against its agent configs (no server needed).

Usage: check_scenarios.py [scenarios.jsonl] [agents_dir]
Defaults: holdout.jsonl and agents/ next to this script.
"""
import json, os, re, sys

here = os.path.dirname(os.path.abspath(__file__))
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "holdout.jsonl")
agents_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "agents")
errors = []
TYPES = {"string", "name", "email", "phone", "number", "money", "date", "time", "boolean", "enum"}

agents = {}
for fn in sorted(os.listdir(agents_dir)):
    if fn.endswith(".json"):
        a = json.load(open(os.path.join(agents_dir, fn)))
        agents[fn[:-5]] = a
        fields = {f["field"] for f in a["data_to_collect"]}
        for f in a["data_to_collect"]:
            if f["type"] not in TYPES:
                errors.append(f"{fn}: field {f['field']} has unknown type {f['type']}")
            if f["type"] == "enum" and not f.get("options"):
                errors.append(f"{fn}: enum {f['field']} has no options")
        for var in re.findall(r"\{\{(\w+)\}\}", a["closing"]):
            if var not in fields and var not in a["business"]:
                errors.append(f"{fn}: closing uses unknown {{{{{var}}}}}")
        for k in ("name", "business", "greeting", "call_types", "transfer", "knowledge", "closing", "brain"):
            if k not in a:
                errors.append(f"{fn}: missing {k}")

REQ = {"id", "agent", "from", "opening", "answers", "closing", "expect"}
OPT = {"interject", "expect_first_reply"}
ids = set()
counts = {}
for n, line in enumerate(open(path), 1):
    if not line.strip():
        continue
    try:
        s = json.loads(line)
    except json.JSONDecodeError as e:
        errors.append(f"line {n}: invalid JSON: {e}")
        continue
    sid = s.get("id", f"line {n}")
    miss, extra = REQ - s.keys(), s.keys() - REQ - OPT
    if miss: errors.append(f"{sid}: missing keys {sorted(miss)}")
    if extra: errors.append(f"{sid}: unknown keys {sorted(extra)}")
    if sid in ids: errors.append(f"{sid}: duplicate id")
    ids.add(sid)
    a = agents.get(s.get("agent"))
    if a is None:
        errors.append(f"{sid}: unknown agent {s.get('agent')}")
        continue
    counts[s["agent"]] = counts.get(s["agent"], 0) + 1
    if not re.fullmatch(r"\+1555\d{7}", s["from"]):
        errors.append(f"{sid}: from {s['from']} not +1555XXXXXXX")
    spec = {f["field"]: f for f in a["data_to_collect"]}
    for k in s["answers"]:
        if k not in spec and k != "message":
            errors.append(f"{sid}: answer for unknown field {k}")
    e = s["expect"]
    for k in ("call_type", "fields", "contains", "transferred_to"):
        if k not in e: errors.append(f"{sid}: expect lacks {k}")
    ct = e.get("call_type")
    names = {c["name"]: c for c in a["call_types"]}
    if ct is not None and ct not in names:
        errors.append(f"{sid}: call_type {ct} not configured")
    tr = e.get("transferred_to")
    if tr is not None and tr != a["transfer"]["number"]:
        errors.append(f"{sid}: transferred_to {tr} is not the agent's transfer number")
    if ct is not None and names[ct].get("action") == "transfer" and tr is None:
        errors.append(f"{sid}: transfer-type call_type without transferred_to")
    if ct is not None and names[ct].get("action") == "message" and "message" not in s["answers"]:
        errors.append(f"{sid}: message call without a 'message' answer")
    for k, v in e.get("fields", {}).items():
        f = spec.get(k)
        if f is None:
            errors.append(f"{sid}: expected unknown field {k}"); continue
        t = f["type"]
        ok = {
            "email": lambda v: isinstance(v, str) and v == v.lower() and re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", v),
            "phone": lambda v: isinstance(v, str) and re.fullmatch(r"\+1\d{10}", v),
            "date": lambda v: isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v),
            "time": lambda v: isinstance(v, str) and re.fullmatch(r"\d{2}:\d{2}", v),
            "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
            "enum": lambda v: v in f.get("options", []),
            "name": lambda v: isinstance(v, str) and v == v.strip() and all(w[:1].isupper() for w in v.split()),
        }.get(t, lambda v: isinstance(v, str))(v)
        if not ok:
            errors.append(f"{sid}: field {k} ({t}) expected value {v!r} is not normalised")
    for k, alts in e.get("contains", {}).items():
        if k not in spec: errors.append(f"{sid}: contains for unknown field {k}")
        if not isinstance(alts, list) or not all(isinstance(x, str) for x in alts):
            errors.append(f"{sid}: contains[{k}] must be a list of strings")
    ij = s.get("interject")
    if ij:
        if ij.get("after_field") not in s["answers"]:
            errors.append(f"{sid}: interject after_field {ij.get('after_field')} has no answer")
        if not ij.get("text") or not isinstance(ij.get("expect_in_reply", []), list):
            errors.append(f"{sid}: bad interject")
        blob = " ".join(k["answer"] for k in a["knowledge"]).casefold()
        for alt in ij.get("expect_in_reply", []):
            if not any(x.casefold() in blob for x in alt.split("|")):
                errors.append(f"{sid}: interject expects {alt!r}, absent from every knowledge answer")
    if "expect_first_reply" in s and not isinstance(s["expect_first_reply"], list):
        errors.append(f"{sid}: expect_first_reply must be a list")

for err in errors:
    print("ERROR", err)
print("scenarios per agent:", json.dumps(dict(sorted(counts.items()))), "total", sum(counts.values()))
sys.exit(1 if errors else 0)
