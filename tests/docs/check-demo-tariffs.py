#!/usr/bin/env python3
"""The demo host's fee services (host/demo.c) against the kiosk's catalogue (assets/catalogue):
every service's `host` entity and service exists at the host; a fixed fee's price and an open
amount's bounds are the host's tariff for it (POST /v1/payments checks a line against them);
an inquiry service and Salik's open amount are paid per account ('account' tariff). A price
changed on one side only would have every such payment refused. Exit 1 naming each mismatch.
"""
import glob
import json
import os
import re
import sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
demo = open(os.path.join(root, "host", "demo.c"), encoding="utf-8").read()
# The SQL as the C string literals join it.
sql = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', demo))

services = {}
for stmt in sql.split(";"):
    m = re.match(r"\s*INSERT INTO fee_service \(([^)]*)\) VALUES(.*)ON CONFLICT", stmt, re.S)
    if not m:
        continue
    cols = [c.strip() for c in m.group(1).split(",")]
    for row in re.findall(r"\(([^()]*)\)", m.group(2)):
        vals = [v.strip().strip("'") for v in re.findall(r"'[^']*'|[^,]+", row)]
        rec = dict(zip(cols, vals))
        rec.setdefault("tariff", "account")
        services[(rec["entity"], rec["service"])] = rec

bad = []
files = sorted(glob.glob(os.path.join(root, "assets", "catalogue", "*.json")))
for f in files:
    for e in json.load(open(f, encoding="utf-8"))["entities"]:
        for s in e["services"]:
            key = (s["host"]["entity"], s["host"]["service"])
            fee = s["fee"]
            have = services.get(key)
            where = f"{os.path.basename(f)}: {s['id']} -> {key[0]}/{key[1]}"
            if not have:
                bad.append(f"{where}: no such service in host/demo.c")
                continue
            if fee["kind"] == "fixed":
                if have["tariff"] != "fixed" or int(have.get("amount_fils", 0)) != fee["amount_fils"]:
                    bad.append(f"{where}: fixed {fee['amount_fils']} at the kiosk, {have} at the host")
            elif fee["kind"] == "open" and have["tariff"] != "account":
                want = (fee["min_fils"], fee["max_fils"], fee["step_fils"])
                got = tuple(int(have.get(k, 0)) for k in ("min_fils", "max_fils", "step_fils"))
                if have["tariff"] != "open" or got != want:
                    bad.append(f"{where}: open {want} at the kiosk, {have} at the host")
            elif fee["kind"] == "inquiry" and have["tariff"] != "account":
                bad.append(f"{where}: an inquiry service, but the host prices it {have['tariff']}")
for b in bad:
    print("FAIL:", b)
print(f"{len(files)} catalogue files, {len(services)} host services, {len(bad)} problems")
sys.exit(1 if bad else 0)
