#!/usr/bin/env node
// TEST DOUBLE of an x402 facilitator, on loopback, for the FacilitatorVerifier
// tests. Not a facilitator: it moves no funds and must never face a network.
//
//   node facilitator_double.mjs [--tls-cert CERT.pem --tls-key KEY.pem] [--modules DIR]
//
// Listens on 127.0.0.1, an ephemeral port, and prints one line of JSON,
// {"port": N}, when ready. It exits when its stdin closes (its parent died or
// is done), so it never outlives the test.
//
// What a request gets is chosen by the first path segment of the facilitator
// URL (the verifier POSTs <url>/verify and <url>/settle):
//   /valid/...           200 {isValid: true, payer: authorization.from} / settle success   (scripted)
//   /valid-no-payer/...  200 {isValid: true} without payer                                  (scripted)
//   /invalid/...         200 {isValid: false, invalidReason: invalid_exact_evm_signature}   (scripted)
//   /refused-400/...     400 {isValid: false, invalidReason: invalid_exact_evm_nonce_already_used}
//   /status500/...       500 text/plain
//   /malformed/...       200 application/json with a truncated JSON body
//   /not-an-answer/...   200 JSON without isValid / success
//   /huge/...            200 with a 200 KiB JSON body
//   /hang/...            reads the request, never answers
//   /close/...           as /valid, with Connection: close
//   /drop/...            as /valid, keep-alive advertised, then the socket is destroyed
//   /official/at/<unix>/...  the OFFICIAL facilitator code (@x402/core + @x402/evm from
//                        --modules) over a chain stand-in, judging at unix second <unix>
//                        (see official.cjs: what is real and what is a stand-in)
//   /scripted/...        per payment, as POST /script said for its authorization.nonce
//                        (default: as /valid); every call is counted for GET /calls
//   GET /stats           {connections, requests} since start
//   GET /last            the last POST: {path, headers, body}
//   POST /script         {nonce, settle: "valid"|"fail"|"status500", settleDelayMs} for one
//                        payment, or {defaultSettleDelayMs} for all: what /scripted answers
//   GET /calls           {verify: {nonce: n}, settle: {nonce: n}, settled: [nonce]} of /scripted
import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

let official;
const modulesDir = option('--modules');
if (modulesDir) {
  const { loadOfficial, createOfficialFacilitator } = require('./official.cjs');
  official = createOfficialFacilitator(loadOfficial(modulesDir));
}

const stats = { connections: 0, requests: 0 };
let last = null;
// /scripted: what each payment (by nonce) gets, and what was asked.
const script = new Map();
let defaultSettleDelayMs = 0;
const calls = { verify: {}, settle: {}, settled: [] };

const json = (res, status, value, headers = {}) => {
  const body = JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v));
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
};

const fromOf = (request) => request?.paymentPayload?.payload?.authorization?.from;
const nonceOf = (request) => String(request?.paymentPayload?.payload?.authorization?.nonce ?? '');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function scriptedByNonce(endpoint, request, res) {
  const nonce = nonceOf(request);
  calls[endpoint][nonce] = (calls[endpoint][nonce] ?? 0) + 1;
  if (endpoint === 'verify') return scripted('valid', endpoint, request, res);
  const plan = script.get(nonce) ?? {};
  const delay = plan.settleDelayMs ?? defaultSettleDelayMs;
  if (delay > 0) await sleep(delay);
  const mode = plan.settle === 'fail' ? 'invalid' : plan.settle === 'status500' ? 'status500' : 'valid';
  if (mode === 'valid') calls.settled.push(nonce);
  return scripted(mode, endpoint, request, res);
}
const networkOf = (request) => request?.paymentRequirements?.network ?? '';

function scripted(mode, endpoint, request, res) {
  const payer = fromOf(request);
  const valid = endpoint === 'verify'
    ? { isValid: true, payer }
    : { success: true, payer, transaction: `0x${'ab'.repeat(32)}`, network: networkOf(request) };
  switch (mode) {
    case 'valid': return json(res, 200, valid);
    case 'close': return json(res, 200, valid, { Connection: 'close' });
    case 'drop': {
      const socket = res.socket;
      res.on('finish', () => socket.destroy());
      return json(res, 200, valid);
    }
    case 'valid-no-payer': return json(res, 200, endpoint === 'verify' ? { isValid: true } : { ...valid, payer: undefined });
    case 'invalid':
      return json(res, 200, endpoint === 'verify'
        ? { isValid: false, invalidReason: 'invalid_exact_evm_signature', invalidMessage: 'scripted refusal', payer }
        : { success: false, errorReason: 'invalid_exact_evm_transaction_failed', errorMessage: 'scripted failure', payer, transaction: '', network: networkOf(request) });
    case 'refused-400':
      return json(res, 400, endpoint === 'verify'
        ? { isValid: false, invalidReason: 'invalid_exact_evm_nonce_already_used', payer }
        : { success: false, errorReason: 'invalid_exact_evm_nonce_already_used', payer, transaction: '', network: networkOf(request) });
    case 'status500':
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      return res.end('Internal Server Error');
    case 'malformed':
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end('{"isValid": tru');
    case 'not-an-answer': return json(res, 200, { ok: true });
    case 'huge': return json(res, 200, { isValid: false, invalidReason: 'x'.repeat(200 * 1024) });
    case 'hang': return undefined; // never answers; the client's timeout must end it
    default: return json(res, 404, { error: `facilitator double: unknown mode ${mode}` });
  }
}

async function handle(req, res) {
  stats.requests += 1;
  const segments = req.url.split('/').filter(Boolean);
  if (req.method === 'GET' && req.url === '/stats') return json(res, 200, stats);
  if (req.method === 'GET' && req.url === '/last') return json(res, 200, last);
  if (req.method === 'GET' && req.url === '/calls') return json(res, 200, calls);
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  if (req.method === 'POST' && req.url === '/script') {
    const order = JSON.parse(text);
    if (order.defaultSettleDelayMs !== undefined) defaultSettleDelayMs = Number(order.defaultSettleDelayMs);
    if (order.nonce !== undefined) script.set(String(order.nonce), order);
    return json(res, 200, { ok: true });
  }
  last = { path: req.url, headers: req.headers, body: text };
  const endpoint = segments.at(-1);
  if (req.method !== 'POST' || (endpoint !== 'verify' && endpoint !== 'settle'))
    return json(res, 404, { error: 'POST <url>/verify or <url>/settle' });
  let request;
  try {
    request = JSON.parse(text);
  } catch {
    return json(res, 400, { error: 'body is not JSON' });
  }
  if (segments[0] === 'official') {
    if (!official) return json(res, 500, { error: 'started without --modules' });
    const now = Number(segments[2]);
    try {
      const answer = await official[endpoint](request.paymentPayload, request.paymentRequirements, now);
      return json(res, 200, answer);
    } catch (error) {
      return json(res, 500, { error: String(error?.message ?? error) });
    }
  }
  if (segments[0] === 'scripted') return scriptedByNonce(endpoint, request, res);
  return scripted(segments[0], endpoint, request, res);
}

const onRequest = (req, res) => {
  handle(req, res).catch((error) => json(res, 500, { error: String(error) }));
};
const server = option('--tls-cert')
  ? https.createServer({ cert: fs.readFileSync(option('--tls-cert')), key: fs.readFileSync(option('--tls-key')) }, onRequest)
  : http.createServer(onRequest);
server.keepAliveTimeout = 120_000; // the tests decide when connections end
server.headersTimeout = 130_000;
server.requestTimeout = 0;
server.on(option('--tls-cert') ? 'secureConnection' : 'connection', () => { stats.connections += 1; });
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
