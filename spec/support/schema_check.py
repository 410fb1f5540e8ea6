"""Validate JSON text against docs/schema/invite-report-1.json (spec/support/schema.lua runs this).

usage: schema_check.py SCHEMA FILE [json|jsonl] [DEF]
  json: FILE is one document; jsonl: every line of FILE is one. DEF: a name under $defs
  (e.g. invitation, count_row) instead of the whole schema. Prints each problem (path: message)
  and exits 1 when there is one, 0 when the text is valid.
"""
import json
import sys

import jsonschema


def main():
    schema_path, path = sys.argv[1], sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) > 3 else "json"
    name = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else None
    with open(schema_path) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    if name:
        schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/" + name}
    validator = jsonschema.Draft202012Validator(schema)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    docs = []
    if mode == "jsonl":
        if text and not text.endswith("\n"):
            print("jsonl: the last line has no newline")
            return 1
        for n, line in enumerate(text.split("\n")[:-1], 1):
            docs.append(("line %d" % n, line))
    else:
        docs.append(("document", text))
    problems = 0
    for where, t in docs:
        try:
            doc = json.loads(t)
        except ValueError as e:
            print("%s: not JSON: %s" % (where, e))
            problems += 1
            continue
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            print("%s: /%s: %s" % (where, "/".join(str(p) for p in e.absolute_path), e.message[:300]))
            problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
