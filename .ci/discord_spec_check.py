#!/usr/bin/env python3
"""Validates request bodies the bot sent to the local Discord against Discord's own OpenAPI description.

Usage:
  discord_spec_check.py OPENAPI_JSON CAPTURE_DIR   check every captured body; exit 1 on any problem
  discord_spec_check.py OPENAPI_JSON --self-test   prove the checker rejects what Discord rejects

Each captured file is {"method", "path", "body"} as the test server received it. The path is matched to
the spec's path templates, and the body is validated against the operation's request schema with a small
JSON Schema validator (standard library only): type, properties, required, additionalProperties, items,
min/max length/items/value, enum, const, anyOf/oneOf (as any of), allOf, $ref.
"""

import json
import os
import re
import sys
import unittest


class Spec:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.templates = []
        for template, item in self.doc["paths"].items():
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", re.escape(template).replace(r"\{", "{").replace(r"\}", "}")) + "$"
            self.templates.append((template.count("{"), template, re.compile(pattern), item))
        # Literal segments win over parameters (`/messages/@original` over `/messages/{message_id}`).
        self.templates.sort(key=lambda t: t[0])

    def request_schema(self, method, path):
        path = re.sub(r"^/api/v\d+", "", path.split("?")[0])
        for _, template, pattern, item in self.templates:
            if pattern.match(path):
                operation = item.get(method.lower())
                if operation is None:
                    return template, None
                content = operation.get("requestBody", {}).get("content", {})
                schema = content.get("application/json", {}).get("schema")
                return template, schema
        return None, None

    def resolve(self, schema):
        while isinstance(schema, dict) and "$ref" in schema:
            node = self.doc
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def validate(self, schema, value, where="$"):
        """Returns a list of problems (empty when valid)."""
        schema = self.resolve(schema)
        if schema is True or schema is None or schema == {}:
            return []
        if schema is False:
            return [f"{where}: not allowed"]
        problems = []
        for sub in schema.get("allOf", []):
            problems += self.validate(sub, value, where)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                results = [self.validate(sub, value, where) for sub in schema[key]]
                if not any(not r for r in results):
                    best = min(results, key=len)
                    problems.append(f"{where}: matches none of {key} ({'; '.join(best[:3])})")
        types = schema.get("type")
        if types is not None:
            types = types if isinstance(types, list) else [types]
            if not any(type_matches(t, value) for t in types):
                return problems + [f"{where}: expected {'/'.join(types)}, got {type(value).__name__}"]
        if "const" in schema and value != schema["const"]:
            problems.append(f"{where}: must be {schema['const']!r}")
        if "enum" in schema and value not in schema["enum"]:
            problems.append(f"{where}: {value!r} not in {schema['enum']}")
        if isinstance(value, str):
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                problems.append(f"{where}: {len(value)} characters, at most {schema['maxLength']}")
            if "minLength" in schema and len(value) < schema["minLength"]:
                problems.append(f"{where}: {len(value)} characters, at least {schema['minLength']}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if "maximum" in schema and value > schema["maximum"]:
                problems.append(f"{where}: {value} > {schema['maximum']}")
            if "minimum" in schema and value < schema["minimum"]:
                problems.append(f"{where}: {value} < {schema['minimum']}")
        if isinstance(value, list):
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                problems.append(f"{where}: {len(value)} items, at most {schema['maxItems']}")
            if "minItems" in schema and len(value) < schema["minItems"]:
                problems.append(f"{where}: {len(value)} items, at least {schema['minItems']}")
            if "items" in schema:
                for i, item in enumerate(value):
                    problems += self.validate(schema["items"], item, f"{where}[{i}]")
        if isinstance(value, dict):
            properties = schema.get("properties", {})
            for name in schema.get("required", []):
                if name not in value:
                    problems.append(f"{where}: missing {name}")
            for name, item in value.items():
                if name in properties:
                    problems += self.validate(properties[name], item, f"{where}.{name}")
                elif schema.get("additionalProperties") is False:
                    problems.append(f"{where}: unknown field {name}")
                elif isinstance(schema.get("additionalProperties"), dict):
                    problems += self.validate(schema["additionalProperties"], item, f"{where}.{name}")
            if "maxProperties" in schema and len(value) > schema["maxProperties"]:
                problems.append(f"{where}: too many fields")
        return problems

    def check(self, method, path, body):
        template, schema = self.request_schema(method, path)
        if template is None:
            return [f"{method} {path}: no such route in Discord's API"]
        if schema is None:
            return [f"{method} {template}: Discord takes no JSON body here"]
        problems = self.validate(schema, body) + documented_limits(body)
        return [f"{method} {template}: {p}" for p in problems]


# Limits in Discord's documentation that the published schema states more loosely: the schema allows
# `content` up to 4000 characters, but a bot's message is refused past 2000; all of a message's embeds
# together must stay within 6000 characters.
CONTENT_MAX = 2000
EMBEDS_TOTAL_MAX = 6000


def documented_limits(body, where="$"):
    problems = []
    if not isinstance(body, dict):
        return problems
    message = body.get("data") if isinstance(body.get("data"), dict) and "type" in body else body
    prefix = f"{where}.data" if message is not body else where
    content = message.get("content")
    if isinstance(content, str) and len(content) > CONTENT_MAX:
        problems.append(f"{prefix}.content: {len(content)} characters, at most {CONTENT_MAX}")
    total = 0
    for embed in message.get("embeds") or []:
        if not isinstance(embed, dict):
            continue
        for key in ("title", "description"):
            total += len(embed.get(key) or "")
        total += len((embed.get("footer") or {}).get("text") or "")
        total += len((embed.get("author") or {}).get("name") or "")
        for field in embed.get("fields") or []:
            total += len(field.get("name") or "") + len(field.get("value") or "")
    if total > EMBEDS_TOTAL_MAX:
        problems.append(f"{prefix}.embeds: {total} characters in all, at most {EMBEDS_TOTAL_MAX}")
    return problems


def type_matches(name, value):
    return {
        "null": value is None,
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }.get(name, True)


def check_dir(spec, directory):
    files = sorted(f for f in os.listdir(directory) if f.endswith(".json"))
    failures = 0
    for name in files:
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            record = json.load(f)
        problems = spec.check(record["method"], record["path"], record["body"])
        for problem in problems:
            print(f"{name}: {problem}")
        failures += bool(problems)
    print(f"discord spec check: {len(files) - failures} passed, {failures} failed")
    return failures == 0 and len(files) > 0


SPEC = None


def message(content="ok", buttons=1, custom_id="q:1:0:A", fields=1):
    row = [{"type": 2, "style": 1, "custom_id": f"{custom_id}{i}"[:len(custom_id)] if i == 0 else f"b{i}", "label": "A"}
           for i in range(buttons)]
    return {
        "content": content,
        "embeds": [{"title": "t", "fields": [{"name": "n", "value": "v"} for _ in range(fields)]}],
        "components": [{"type": 1, "components": row}],
    }


class CheckerRejectsWhatDiscordRejects(unittest.TestCase):
    route = "/api/v10/channels/1/messages"

    def test_a_normal_message_passes(self):
        self.assertEqual(SPEC.check("POST", self.route, message()), [])
        callback = {"type": 4, "data": message()}
        self.assertEqual(SPEC.check("POST", "/api/v10/interactions/1/tok/callback", callback), [])
        self.assertEqual(SPEC.check("PATCH", "/api/v10/webhooks/1/tok/messages/@original", message()), [])

    def test_2001_characters_of_content_fail(self):
        self.assertTrue(SPEC.check("POST", self.route, message(content="x" * 2001)))
        self.assertEqual(SPEC.check("POST", self.route, message(content="x" * 2000)), [])

    def test_a_sixth_button_in_a_row_fails(self):
        self.assertEqual(SPEC.check("POST", self.route, message(buttons=5)), [])
        self.assertTrue(SPEC.check("POST", self.route, message(buttons=6)))

    def test_a_101_character_custom_id_fails(self):
        self.assertEqual(SPEC.check("POST", self.route, message(custom_id="c" * 100)), [])
        self.assertTrue(SPEC.check("POST", self.route, message(custom_id="c" * 101)))

    def test_a_26th_embed_field_fails(self):
        self.assertTrue(SPEC.check("POST", self.route, message(fields=26)))

    def test_an_unknown_route_fails(self):
        self.assertTrue(SPEC.check("POST", "/api/v10/nowhere", {}))


def main(argv):
    global SPEC
    if len(argv) != 3:
        print(__doc__)
        return 2
    SPEC = Spec(argv[1])
    if argv[2] == "--self-test":
        suite = unittest.defaultTestLoader.loadTestsFromTestCase(CheckerRejectsWhatDiscordRejects)
        result = unittest.TextTestRunner(verbosity=1).run(suite)
        return 0 if result.wasSuccessful() else 1
    return 0 if check_dir(SPEC, argv[2]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
