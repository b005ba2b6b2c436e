#!/usr/bin/env python3
"""Validates DOCUMENT against SCHEMA (a file beside this script); the
schemas here resolve references among themselves, never over the network.
Prints up to 20 errors and exits 1 when there are any."""
import json
import pathlib
import sys

import jsonschema

here = pathlib.Path(__file__).parent
schemas = {}
for f in here.glob("*.json"):
    s = json.loads(f.read_text())
    schemas[s["$id"]] = s
schema = json.loads((here / sys.argv[1]).read_text())
doc = json.loads(pathlib.Path(sys.argv[2]).read_text())
cls = jsonschema.validators.validator_for(schema)
try:
    from referencing import Registry, Resource

    registry = Registry().with_resources(
        (i, Resource.from_contents(s)) for i, s in schemas.items()
    )
    validator = cls(schema, registry=registry)
except ImportError:  # jsonschema before 4.18
    resolver = jsonschema.RefResolver.from_schema(schema, store=schemas)
    validator = cls(schema, resolver=resolver)
errors = list(validator.iter_errors(doc))
for e in errors[:20]:
    print("/".join(str(p) for p in e.absolute_path), e.message[:300])
sys.exit(1 if errors else 0)
