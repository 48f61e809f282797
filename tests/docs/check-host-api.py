#!/usr/bin/env python3
"""Checks docs/host-api.yaml against the lead's contracts for issues 12 and 13 (CONTRACT-12.md,
CONTRACT-13.md: POST /v1/payments and the fees records).

Parsed with a real YAML parser (PyYAML), then: OpenAPI 3.1; every path and method of the
contract; every error code of the contract under its status, with an example; every money
property an integer (int64, described in fils) and no JSON number type anywhere; the mutualTLS
scheme; the Date header on every operation; ETag/If-None-Match/304 on the catalogue; the
records rules; every $ref resolving; the demo data in the examples.
--examples: also validates every example against its schema (python3-jsonschema).
--self-test: breaks copies of the document in memory and requires each check to fail.
Exit 77 (skip) when a needed Python module is absent.
"""
import argparse
import copy
import re
import sys

try:
    import yaml
except ImportError:
    print("SKIP: python3-yaml is not installed (scripts/setup-deps.sh)")
    sys.exit(77)

# The contract's operations (CONTRACT-12.md, one section each).
PATHS = {
    "/v1/records": {"post"},
    "/v1/cards/{card}": {"get"},
    "/v1/fees/{entity}/{service}/{reference}": {"get"},
    "/v1/vouchers/validate": {"post"},
    "/v1/vouchers/redeem": {"post"},
    "/v1/catalogue": {"get"},
    "/v1/heartbeat": {"post"},
    "/v1/payments": {"post"},  # issue 13 (CONTRACT-13.md, LINK)
}

# Every error code of the contract with its status, and where it must be documented (None:
# every operation, the authentication and Date refusals).
CODES = {
    "no_certificate": (403, None),
    "unknown_certificate": (403, None),
    "revoked_certificate": (403, None),
    "bad_certificate": (403, None),
    "date_out_of_window": (401, None),
    "date_missing": (400, None),
    "bad_request": (400, ["/v1/records", "/v1/vouchers/validate", "/v1/vouchers/redeem", "/v1/heartbeat", "/v1/payments"]),
    "bad_json": (400, ["/v1/records", "/v1/vouchers/validate", "/v1/vouchers/redeem", "/v1/heartbeat", "/v1/payments"]),
    "body_too_large": (413, ["/v1/records", "/v1/vouchers/validate", "/v1/vouchers/redeem", "/v1/heartbeat", "/v1/payments"]),
    "record_conflict": (409, ["/v1/records"]),
    "sequence_gap": (409, ["/v1/records"]),
    "chain_broken": (422, ["/v1/records"]),
    "bad_record": (422, ["/v1/records"]),
    "card_unknown": (404, ["/v1/cards/{card}"]),
    "bad_card": (400, ["/v1/cards/{card}"]),
    "reference_unknown": (404, ["/v1/fees/{entity}/{service}/{reference}"]),
    "entity_unknown": (404, ["/v1/fees/{entity}/{service}/{reference}"]),
    "service_unknown": (404, ["/v1/fees/{entity}/{service}/{reference}"]),
    "idempotency_mismatch": (422, ["/v1/vouchers/redeem", "/v1/payments"]),
    "voucher_unknown": (404, ["/v1/vouchers/validate", "/v1/vouchers/redeem"]),
    "voucher_spent": (409, ["/v1/vouchers/validate", "/v1/vouchers/redeem"]),
    "voucher_expired": (410, ["/v1/vouchers/validate", "/v1/vouchers/redeem"]),
}
# Extra members an error carries (the contract: "with `rec`", "with `acked`", "with `server_time`").
EXTRA = {"record_conflict": "rec", "chain_broken": "rec", "bad_record": "rec", "sequence_gap": "acked",
         "date_out_of_window": "server_time"}

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def resolve(doc, node):
    """Follows $ref chains inside the document; raises KeyError naming a dangling one."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise KeyError(f"$ref {ref} is not local")
        target = doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                raise KeyError(f"$ref {ref} does not resolve")
            target = target[part]
        node = target
        seen += 1
        if seen > 20:
            raise KeyError(f"$ref {ref} loops")
    return node


def inline(doc, node, depth=0):
    """A copy of node with every $ref replaced by what it names (for jsonschema)."""
    if depth > 50:
        raise KeyError("$ref nesting too deep")
    node = resolve(doc, node)
    if isinstance(node, dict):
        return {k: inline(doc, v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [inline(doc, v, depth + 1) for v in node]
    return node


def walk(node, path=""):
    """Yields (path, dict) for every mapping in the tree."""
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}/{i}")


def operations(doc):
    for p, item in (doc.get("paths") or {}).items():
        for m, op in item.items():
            if m in METHODS:
                yield p, m, op


def lenient(doc, node):
    """resolve(), with {} for a dangling $ref (check() reports those once, by themselves)."""
    try:
        return resolve(doc, node)
    except KeyError:
        return {}


def response_examples(doc, response):
    """Yields (name, value) of a response's JSON examples."""
    response = lenient(doc, response)
    media = (response.get("content") or {}).get("application/json") or {}
    for name, ex in (media.get("examples") or {}).items():
        yield name, lenient(doc, ex).get("value")
    if "example" in media:
        yield "example", media["example"]


def check(doc):
    """Returns the list of problems found (empty: the document holds)."""
    bad = []

    # 1. OpenAPI 3.1.
    if not str(doc.get("openapi", "")).startswith("3.1."):
        bad.append(f"openapi is {doc.get('openapi')!r}, not 3.1.x")

    # 2. Every $ref resolves.
    for where, node in walk(doc):
        if "$ref" in node and isinstance(node["$ref"], str):
            try:
                resolve(doc, node)
            except KeyError as e:
                bad.append(f"{where}: {e}")

    # 3. Every path and method of the contract.
    paths = doc.get("paths") or {}
    for p, methods in PATHS.items():
        if p not in paths:
            bad.append(f"path {p} missing")
            continue
        have = {m for m in paths[p] if m in METHODS}
        for m in methods - have:
            bad.append(f"{m.upper()} {p} missing")

    # 4. Mutual TLS, required everywhere.
    schemes = (doc.get("components") or {}).get("securitySchemes") or {}
    if (schemes.get("mutualTLS") or {}).get("type") != "mutualTLS":
        bad.append("components.securitySchemes.mutualTLS is not of type mutualTLS")
    if {"mutualTLS": []} not in (doc.get("security") or []):
        bad.append("the top-level security does not require mutualTLS")
    for p, m, op in operations(doc):
        if "security" in op and {"mutualTLS": []} not in op["security"]:
            bad.append(f"{m.upper()} {p} overrides security without mutualTLS")

    # 5. The Date header, required on every operation, with its window.
    for p, m, op in operations(doc):
        params = [lenient(doc, x) for x in op.get("parameters") or []]
        date = [x for x in params if x.get("in") == "header" and str(x.get("name", "")).lower() == "date"]
        if not date or not date[0].get("required"):
            bad.append(f"{m.upper()} {p} has no required Date header")
        elif "180" not in str(date[0].get("description", "")):
            bad.append(f"{m.upper()} {p}: the Date header does not state the 180 s window")

    # 6. Error codes: in ErrorCode, each under its status with an example, with its extra
    # member; no example under a status its code does not have.
    schemas = (doc.get("components") or {}).get("schemas") or {}
    enum = set((schemas.get("ErrorCode") or {}).get("enum") or [])
    for code in CODES:
        if code not in enum:
            bad.append(f"error code {code} not in components.schemas.ErrorCode")
    found = {}  # code -> set of paths
    for p, m, op in operations(doc):
        for status, response in (op.get("responses") or {}).items():
            for name, value in response_examples(doc, response):
                err = (value or {}).get("error") if isinstance(value, dict) else None
                if not isinstance(err, dict):
                    if str(status)[0] in "45":
                        bad.append(f"{m.upper()} {p} {status} example {name} is not an error object")
                    continue
                code = err.get("code")
                if code not in enum:
                    bad.append(f"{m.upper()} {p} {status} example {name}: code {code!r} not in ErrorCode")
                if code in CODES and int(status) != CODES[code][0]:
                    bad.append(f"{m.upper()} {p}: {code} under {status}, the contract says {CODES[code][0]}")
                if code in EXTRA and EXTRA[code] not in err:
                    bad.append(f"{m.upper()} {p} {status} example {name}: {code} without {EXTRA[code]}")
                if code in CODES and int(status) == CODES[code][0]:
                    found.setdefault(code, set()).add(p)
    for code, (status, where) in CODES.items():
        for p in (where if where is not None else PATHS):
            if p in paths and p not in found.get(code, set()):
                bad.append(f"{p}: error {code} ({status}) is not documented with an example")
    error_props = (((schemas.get("Error") or {}).get("properties") or {}).get("error") or {}).get("properties") or {}
    for member in set(EXTRA.values()):
        if member not in error_props:
            bad.append(f"components.schemas.Error has no member {member}")

    # 7. Money: every *_fils property an int64 integer described in fils; no JSON number type.
    for where, node in walk(doc):
        props = node.get("properties")
        if isinstance(props, dict):
            for name, prop in props.items():
                if not name.endswith("_fils"):
                    continue
                prop = lenient(doc, prop)
                types = prop.get("type")
                types = set(types) if isinstance(types, list) else {types}
                if "integer" not in types or not types <= {"integer", "null"}:
                    bad.append(f"{where}/properties/{name}: type {prop.get('type')!r}, not integer")
                if prop.get("format") != "int64":
                    bad.append(f"{where}/properties/{name}: format {prop.get('format')!r}, not int64")
                if "fils" not in str(prop.get("description", "")):
                    bad.append(f"{where}/properties/{name}: description does not say fils")
        t = node.get("type")
        if t == "number" or (isinstance(t, list) and "number" in t):
            bad.append(f"{where}: type number (amounts and counts are integers)")

    # 8. The catalogue: ETag on 200 and 304, If-None-Match, a 304 without a body.
    cat = (paths.get("/v1/catalogue") or {}).get("get") or {}
    params = [lenient(doc, x) for x in cat.get("parameters") or []]
    if not any(x.get("in") == "header" and x.get("name") == "If-None-Match" for x in params):
        bad.append("GET /v1/catalogue has no If-None-Match header parameter")
    responses = cat.get("responses") or {}
    for status in ("200", "304"):
        r = lenient(doc, responses.get(status) or {})
        if "ETag" not in (r.get("headers") or {}):
            bad.append(f"GET /v1/catalogue {status} has no ETag header")
    if "304" in responses and lenient(doc, responses["304"]).get("content"):
        bad.append("GET /v1/catalogue 304 has a body")

    # 9. The records endpoint: its answer, its batch limit, its rules in words.
    rec = (paths.get("/v1/records") or {}).get("post") or {}
    ack = lenient(doc, schemas.get("RecordsAck") or {})
    for member in ("acked", "applied", "duplicates"):
        if member not in (ack.get("required") or []):
            bad.append(f"RecordsAck does not require {member}")
    batch = lenient(doc, schemas.get("RecordBatch") or {})
    if ((batch.get("properties") or {}).get("records") or {}).get("maxItems") != 500:
        bad.append("RecordBatch.records is not limited to 500 items")
    text = str(rec.get("description", ""))
    for phrase in ("duplicates", "record_conflict", "sequence_gap", "chain_broken", "bad_record", "one PostgreSQL transaction", "unregistered"):
        if phrase not in text:
            bad.append(f"POST /v1/records: the rules do not mention {phrase}")
    record = lenient(doc, schemas.get("Record") or {})
    types = set()
    for alt in record.get("oneOf") or []:
        alt = lenient(doc, alt)
        types.add(((alt.get("properties") or {}).get("type") or {}).get("const"))
        if "mac" not in (alt.get("required") or []) or "rec" not in (alt.get("required") or []):
            bad.append(f"record type {types!r}: rec and mac not required")
    if types != {"tx", "tx_item", "payment", "suspense", "tx_end",
                 "fee_item", "fee_result", "voucher_payment", "voucher_issue",
                 "voucher_intent", "voucher_void"}:
        bad.append(f"Record types are {sorted(t for t in types if t)}, not the ledger's eleven chained tables")

    # 10. The demo data set in the examples.
    values = []
    for where, node in walk(doc):
        if "value" in node and ("/examples/" in where or where.endswith("/examples")):
            values.append(node["value"])
    def has(pred):
        return any(pred(v) for v in values if isinstance(v, dict))
    if not has(lambda v: v.get("card") == "7841000024680132" and v.get("balance_fils") == 2500):
        bad.append("no example of card 7841000024680132 with balance_fils 2500")
    if not has(lambda v: v.get("reference") == "2000123456" and (v.get("amount") or {}).get("due_fils") == 24550):
        bad.append("no example of DEWA 2000123456 owing 24550 fils")
    if not has(lambda v: v.get("reference") == "10012345"
               and sorted(i.get("amount_fils") for i in v.get("items") or []) == [40000, 60000]):
        bad.append("no example of police file 10012345 with fines 60000 and 40000")
    if not has(lambda v: v.get("reference") == "40012345" and v.get("amount") == {"kind": "open", "min_fils": 5000, "max_fils": 100000, "step_fils": 5000}):
        bad.append("no example of Salik 40012345, open in 5000 steps up to 100000")

    # 11. No float in any example: amounts and counts are JSON integers, never 2500.0.
    def floats(v, where):
        if isinstance(v, float):
            yield where
        elif isinstance(v, dict):
            for k, x in v.items():
                yield from floats(x, f"{where}/{k}")
        elif isinstance(v, list):
            for i, x in enumerate(v):
                yield from floats(x, f"{where}/{i}")
    for where, node in walk(doc):
        if "value" in node and "/examples/" in where:
            for f in floats(node["value"], where):
                bad.append(f"{f}: a fraction in an example")
    return bad


def check_examples(doc):
    """Every example (request, response, parameter) validates against its schema."""
    import jsonschema
    validator_cls = jsonschema.Draft202012Validator
    checker = jsonschema.FormatChecker()
    bad = []
    count = 0

    def validate(where, schema, value):
        nonlocal count
        count += 1
        schema = inline(doc, schema)
        for e in validator_cls(schema, format_checker=checker).iter_errors(value):
            bad.append(f"{where}: {e.message} at {list(e.absolute_path)}")

    for p, m, op in operations(doc):
        for param in op.get("parameters") or []:
            param = resolve(doc, param)
            if "example" in param:
                validate(f"{m.upper()} {p} parameter {param['name']}", param["schema"], param["example"])
            for name, ex in (param.get("examples") or {}).items():
                validate(f"{m.upper()} {p} parameter {param['name']} example {name}", param["schema"], resolve(doc, ex)["value"])
        body = resolve(doc, op.get("requestBody") or {})
        media = (body.get("content") or {}).get("application/json")
        if media:
            for name, ex in (media.get("examples") or {}).items():
                validate(f"{m.upper()} {p} request example {name}", media["schema"], resolve(doc, ex)["value"])
        for status, response in (op.get("responses") or {}).items():
            response = resolve(doc, response)
            media = (response.get("content") or {}).get("application/json")
            if media:
                for name, ex in (media.get("examples") or {}).items():
                    validate(f"{m.upper()} {p} {status} example {name}", media["schema"], resolve(doc, ex)["value"])
    if count < 40:
        bad.append(f"only {count} examples validated")
    return bad, count


# Each mutation breaks one fact; check() must report it.
def _set(path, value):
    def mutate(doc):
        node = doc
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
    return mutate


def _delete(path):
    def mutate(doc):
        node = doc
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]
    return mutate


def _drop_code(code):
    def mutate(doc):
        doc["components"]["schemas"]["ErrorCode"]["enum"].remove(code)
    return mutate


def _drop_example(path, status, name):
    def mutate(doc):
        method = next(iter(PATHS[path]))
        r = doc["paths"][path][method]["responses"][status]
        del r["content"]["application/json"]["examples"][name]
    return mutate


MUTATIONS = [
    ("openapi 3.0", _set(["openapi"], "3.0.3")),
    ("a path gone", _delete(["paths", "/v1/heartbeat"])),
    ("a method gone", _delete(["paths", "/v1/vouchers/redeem", "post"])),
    ("a code gone from ErrorCode", _drop_code("sequence_gap")),
    ("a code's example gone", _drop_example("/v1/records", "422", "chain_broken")),
    ("a code under the wrong status", _set(["paths", "/v1/records", "post", "responses", "409", "content",
        "application/json", "examples", "record_conflict", "value", "error", "code"], "chain_broken")),
    ("sequence_gap without acked", _delete(["paths", "/v1/records", "post", "responses", "409", "content",
        "application/json", "examples", "sequence_gap", "value", "error", "acked"])),
    ("money as a number", _set(["components", "schemas", "Card", "properties", "balance_fils", "type"], "number")),
    ("money as a string", _set(["components", "schemas", "PaymentRecord", "properties", "value_fils", "type"], "string")),
    ("money without int64", _delete(["components", "schemas", "FeeItem", "properties", "amount_fils", "format"])),
    ("nested money as a number", _set(["components", "schemas", "FeeAmount", "oneOf", 2, "properties", "step_fils",
        "type"], ["number", "null"])),
    ("no mutualTLS scheme", _set(["components", "securitySchemes", "mutualTLS", "type"], "http")),
    ("no Date on an operation", _set(["paths", "/v1/cards/{card}", "get", "parameters"],
        [{"name": "card", "in": "path", "required": True, "schema": {"type": "string"}}])),
    ("a dangling $ref", _set(["paths", "/v1/catalogue", "get", "responses", "401"], {"$ref": "#/components/responses/Nope"})),
    ("no 304 ETag", _delete(["paths", "/v1/catalogue", "get", "responses", "304", "headers"])),
    ("no batch limit", _delete(["components", "schemas", "RecordBatch", "properties", "records", "maxItems"])),
    ("an amount as a float in an example", _set(["paths", "/v1/records", "post", "responses", "200", "content",
        "application/json", "examples", "applied", "value", "acked"], 4.0)),
    ("demo balance changed", _set(["paths", "/v1/cards/{card}", "get", "responses", "200", "content",
        "application/json", "examples", "funded", "value", "balance_fils"], 2400)),
]

EXAMPLE_MUTATIONS = [
    ("a balance as a string", _set(["paths", "/v1/cards/{card}", "get", "responses", "200", "content",
        "application/json", "examples", "funded", "value", "balance_fils"], "2500")),
    ("a record without its mac", _delete(["paths", "/v1/records", "post", "requestBody", "content",
        "application/json", "examples", "topup", "value", "records", 2, "mac"])),
    ("a card of 15 digits", _set(["paths", "/v1/cards/{card}", "get", "parameters", 1, "examples", "funded",
        "value"], "784100002468013")),
]


def self_test(doc):
    failures = 0
    base = check(doc)
    if base:
        print("self-test needs a good document; it has problems:")
        for b in base:
            print("  " + b)
        return 1
    for name, mutate in MUTATIONS:
        broken = copy.deepcopy(doc)
        mutate(broken)
        found = check(broken)
        if found:
            print(f"ok: {name}: {found[0]}")
        else:
            print(f"NOT CAUGHT: {name}")
            failures += 1
    # The examples check, when python3-jsonschema is there: an example its schema refuses.
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        print("examples check not exercised: python3-jsonschema is not installed")
        return 1 if failures else 0
    for name, mutate in EXAMPLE_MUTATIONS:
        broken = copy.deepcopy(doc)
        mutate(broken)
        found, _ = check_examples(broken)
        if found:
            print(f"ok: {name}: {found[0]}")
        else:
            print(f"NOT CAUGHT: {name}")
            failures += 1
    return 1 if failures else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("yaml_path")
    ap.add_argument("--examples", action="store_true")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    with open(args.yaml_path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    if args.self_test:
        return self_test(doc)
    if args.examples:
        try:
            import jsonschema  # noqa: F401
        except ImportError:
            print("SKIP: python3-jsonschema is not installed (scripts/setup-deps.sh)")
            return 77
        bad, count = check_examples(doc)
        for b in bad:
            print("FAIL: " + b)
        print(f"{count} examples checked against their schemas, {len(bad)} problems")
        return 1 if bad else 0
    bad = check(doc)
    for b in bad:
        print("FAIL: " + b)
    print(f"{len(list(operations(doc)))} operations, {len(CODES)} contract error codes checked, {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
