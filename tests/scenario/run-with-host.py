#!/usr/bin/env python3
"""Runs a scenario against a stand-in host over real mutual TLS, for the kiosk's side of the
host link (the card's balance on the top-up screens, refusals, a host too slow to answer, a
record the host refuses).

    run-with-host.py KIOSK SCENARIO WORKDIR MODE [WIDTHxHEIGHT]

The reference host itself runs host/reference-topup (run-with-reference-host.sh); this stand-in
covers what it cannot be made to do from a scenario (until the scenario commands
`host up|down|...` can): a blocked card with a valid number, a host slower than the timeout, a
record refused, and every screen size cheaply. Its answers are the contract's (docs/host-api.yaml)
with docs/host-demo-data.md's cards:
  GET  /v1/cards/7841000024680132  active, 2500 fils     GET /v1/cards/7841000013579022 active, 0
       /v1/cards/7841000077770004  blocked, 1000 fils        /v1/cards/7841000055550006 answers
       after 4 s (beyond host.timeout_ms)                    any other 16 digits: 404 card_unknown
  POST /v1/records    MODE ack: {"acked": last rec}; MODE chain-broken: 422 chain_broken (rec 1)
  MODE down: no host at all; the [host] section names a loopback port nothing listens on
  POST /v1/heartbeat  {"server_time_s": now}
  MODE catalogue: GET /v1/catalogue answers 404 catalogue_missing until a fee inquiry came
       (GET /v1/fees/..., answered 404 reference_unknown after FEE_S seconds); from then on the
       shipped catalogue (assets/catalogue, merged as kiosk-host serves it) with the Dubai
       Police good conduct certificate at AED 250.00, ETag "b1" (304 to If-None-Match "b1"):
       a new catalogue that comes while a customer is in the fees journey
It makes its own CA, a host certificate for 127.0.0.1 and the kiosk's certificate with openssl,
refuses a connection without the kiosk's certificate (CERT_REQUIRED), writes the [host] section
(plus SCENARIO's own NAME.ini and the size) and requires the kiosk to exit 0. No openssl: skip.
"""
import http.server
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import threading
import time

CARDS = {
    '7841000024680132': ('active', 2500),
    '7841000013579022': ('active', 0),
    '7841000077770004': ('blocked', 1000),
}
SLOW_CARD = '7841000055550006'
SLOW_S = 4.0
FEE_S = 1.5  # longer than the scenario's [host] catalogue_interval_s, shorter than timeout_ms
SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def changed_catalogue():
    """The shipped files as one document, one fixed fee changed."""
    folder = os.path.join(SRC, 'assets', 'catalogue')
    entities = []
    for name in sorted(n for n in os.listdir(folder) if n.endswith('.json')):
        with open(os.path.join(folder, name), encoding='utf-8') as f:
            entities += json.load(f)['entities']
    for e in entities:
        for s in e['services']:
            if s['id'] == 'police-good-conduct':
                s['fee']['amount_fils'] = 25000
    return {'entities': entities}


def openssl(*args, cwd):
    subprocess.run(['openssl', *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d):
    """A CA, the host's certificate (IP 127.0.0.1) and the kiosk's, all signed by the CA."""
    os.makedirs(d)
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
            '-subj', '/CN=test operator CA', '-keyout', 'ca.key', '-out', 'ca.crt', cwd=d)
    for name, ext in (('host', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth'),
                      ('kiosk', 'extendedKeyUsage=clientAuth')):
        with open(os.path.join(d, name + '.ext'), 'w') as f:
            f.write(ext + '\n')
        openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=' + name,
                '-keyout', name + '.key', '-out', name + '.csr', cwd=d)
        openssl('x509', '-req', '-in', name + '.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial',
                '-days', '2', '-extfile', name + '.ext', '-out', name + '.crt', cwd=d)
        os.chmod(os.path.join(d, name + '.key'), 0o600)


class State:
    def __init__(self, mode):
        self.mode = mode
        self.acked = 0
        self.lock = threading.Lock()
        self.fee_asked = False


def handler_for(state):
    class Host(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, fmt, *args):
            sys.stderr.write('host: ' + (fmt % args) + '\n')

        def answer(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def error(self, status, code, **extra):
            self.answer(status, {'error': dict({'code': code, 'message': code.replace('_', ' ')}, **extra)})

        def body(self):
            n = int(self.headers.get('Content-Length', '0'))
            return json.loads(self.rfile.read(n) or b'{}')

        def catalogue(self):
            with state.lock:
                served = state.fee_asked
            if not served:
                return self.error(404, 'catalogue_missing')
            if self.headers.get('If-None-Match') == '"b1"':
                self.send_response(304)
                self.send_header('ETag', '"b1"')
                self.send_header('Content-Length', '0')
                self.end_headers()
                return
            body = json.dumps(changed_catalogue(), ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header('Content-Type', 'application/json')
            self.send_header('ETag', '"b1"')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if state.mode == 'catalogue' and self.path == '/v1/catalogue':
                return self.catalogue()
            if state.mode == 'catalogue' and self.path.startswith('/v1/fees/'):
                time.sleep(FEE_S)
                with state.lock:
                    state.fee_asked = True
                return self.error(404, 'reference_unknown')
            m = re.fullmatch(r'/v1/cards/(\d{16})', self.path)
            if not m:
                return self.error(404, 'not_found')
            card = m.group(1)
            if card == SLOW_CARD:
                time.sleep(SLOW_S)
            if card not in CARDS:
                return self.error(404, 'card_unknown')
            status, balance = CARDS[card]
            self.answer(200, {'card': card, 'status': status, 'balance_fils': balance})

        def do_POST(self):
            if self.path == '/v1/heartbeat':
                self.body()
                return self.answer(200, {'server_time_s': int(time.time())})
            if self.path != '/v1/records':
                return self.error(404, 'not_found')
            records = self.body().get('records', [])
            with state.lock:
                if state.mode == 'chain-broken':
                    return self.error(422, 'chain_broken', rec=records[0]['rec'] if records else 1)
                new = [r['rec'] for r in records if r['rec'] > state.acked]
                applied = 0
                for rec in new:
                    if rec == state.acked + 1:
                        state.acked = rec
                        applied += 1
                self.answer(200, {'acked': state.acked, 'applied': applied,
                                  'duplicates': len(records) - len(new)})

    return Host


def main():
    kiosk, scenario, work, mode = sys.argv[1:5]
    size = sys.argv[5] if len(sys.argv) > 5 else None
    if not shutil.which('openssl'):
        print('SKIP: no openssl to make the test PKI')
        sys.exit(77)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    pki = os.path.join(work, 'pki')
    make_pki(pki)

    state = State(mode)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler_for(state))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(pki, 'host.crt'), os.path.join(pki, 'host.key'))
    ctx.load_verify_locations(os.path.join(pki, 'ca.crt'))
    ctx.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no kiosk certificate, no connection
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    if mode == 'down':
        # A port the kernel gave and nobody listens on any more: connections are refused.
        server.shutdown()
        server.server_close()

    config, own_host = '', ''
    own = scenario[:-len('.scenario')] + '.ini'
    if os.path.exists(own):
        # A section appears once in a kiosk configuration: the scenario's own [host] keys go
        # into the section written here.
        section = None
        with open(own, encoding='utf-8') as f:
            for line in f:
                if line.strip().startswith('['):
                    section = line.strip()
                if section == '[host]':
                    own_host += '' if line.strip() == '[host]' else line
                else:
                    config += line
    config += (f'\n[host]\nurl = https://127.0.0.1:{port}\nca = {pki}/ca.crt\ncert = {pki}/kiosk.crt\n'
               f'key = {pki}/kiosk.key\ntimeout_ms = 2500\nheartbeat_seconds = 3600\n' + own_host)
    if size:
        width, height = size.split('x')
        config += f'\n[ui]\nwidth = {width}\nheight = {height}\n'
    ini = os.path.join(work, 'kiosk.ini')
    with open(ini, 'w', encoding='utf-8') as f:
        f.write(config)
    run = subprocess.run([kiosk, '--headless', '--simulate', '--config', ini, '--script', scenario,
                          '--out', os.path.join(work, 'out'), '--db', os.path.join(work, 'kiosk.db')])
    if mode != 'down':
        server.shutdown()
    if run.returncode != 0:
        print(f'FAIL: exit status {run.returncode}, expected 0')
        sys.exit(1)
    print('ok: exit 0')


if __name__ == '__main__':
    main()
