// The soak of agent-server (bench/soak/run.sh starts the server and runs
// this): legitimate clients paying with the official npm clients
// (tests/agent_server/clients.mjs) for a bounded time, while the server's
// RSS and open descriptors are sampled from /proc; then the same clients
// beside attack loads, each run by a child process of its own so that its
// CPU (multi-megabyte JSON answers, signatures for batches) does not sit in the event
// loop whose latencies are measured.
//
//   node soak.mjs MODULES MCP_URL SERVER_PID                 the soak (both phases)
//   node soak.mjs attack lists|slow|inits MODULES MCP_URL    one attack load (spawned by the soak)
//
// Environment (defaults): SOAK_DURATION=120 seconds per phase,
// SOAK_CLIENTS=64, SOAK_WALLETS=8, SOAK_PHASES=steady,attack,
// SOAK_WARMUP=60 (seconds before the RSS baseline: payment claims are held
// for the payment's 60 s window, so the claim table only stops growing then),
// SOAK_RSS_GROWTH_MB=16 (most RSS growth from the baseline to the end of the
// steady phase; the attack phase's RSS swings with the lists in flight),
// SOAK_MAX_RSS_MB=2048 (most peak RSS), SOAK_FD_MARGIN=4 (most open
// descriptors at the end beyond those before the first client). Attack
// sizes: SOAK_HOARD_ENTRIES=1000 entries of SOAK_HOARD_VALUE=16384 characters
// for each of 2 hoarding payers, SOAK_BATCH=10 list calls per JSON-RPC batch,
// SOAK_SLOW=300 slow sockets, SOAK_INITS=20000 anonymous initializes.
// Prints one "soak-result {json}" line; exits 1 when a bound is passed.
// All traffic goes to MCP_URL (loopback); the keys are random, made here.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { agentClients } from '../../tests/agent_server/clients.mjs';

const env = (name, fallback) => Number(process.env[name] ?? fallback);
const duration = env('SOAK_DURATION', 120) * 1000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const maxOpsPerLoop = 1_000_000;  // every loop ends at its deadline or this count

/** Latencies (ms) and error kinds of one kind of work. */
class Tally {
  constructor() { this.ok = 0; this.errors = {}; this.latencies = []; }
  async time(work) {
    const start = performance.now();
    try {
      await work();
      this.ok += 1;
      this.latencies.push(performance.now() - start);
    } catch (error) {
      const kind = error.kind ?? `${error.code ?? error.name}: ${String(error.message).slice(0, 100)}`;
      this.errors[kind] = (this.errors[kind] ?? 0) + 1;
    }
  }
  get errorCount() { return Object.values(this.errors).reduce((a, b) => a + b, 0); }
  summary() {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q) => (sorted.length ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]) : null);
    return { ok: this.ok, errors: this.errorCount, errorKinds: this.errors, p50ms: at(0.5), p99ms: at(0.99), maxms: at(1) };
  }
}

/** An error whose kind is `kind` (what Tally counts it as). */
function failure(kind, detail = '') {
  const error = new Error(`${kind} ${detail}`.trim());
  error.kind = kind;
  return error;
}

// ---------------------------------------------------------------- legitimate clients

/** The answer of a paid MCP call, or a failure named by its refusal. */
function answerOf(clients, result, what) {
  if (result.isError === true)
    throw failure(`${what}: refused ${result.structuredContent?.error ?? result.content?.[0]?.text?.slice(0, 80)}`);
  return clients.paidOk(result, what);
}

/**
 * One legitimate client until `deadline`: an MCP session of its wallet (the
 * wallets are shared, the keys are its own) calling every paid tool, and the
 * paid HTTP route, checking each answer against what it stored.
 */
async function legitimate(clients, number, who, deadline, tally, ready) {
  const session = await clients.connect(who);
  const prices = {};  // a tool's price is the same for every call: asked once, as a caching agent does
  const priceOf = async (tool, args) => (prices[tool] ??= await clients.priceOf(session, tool, args));
  const stored = new Map();
  const keyOf = (k) => `c${number}-k${k}`;
  const value = () => 'v'.repeat(16 + Math.floor(Math.random() * 1000));
  const paid = async (tool, args) =>
    answerOf(clients, await clients.withPayment(session, tool, args,
                                                 await who.payments.createPaymentPayload(await priceOf(tool, args))), tool);
  const ops = {
    async put() {
      const key = keyOf(Math.floor(Math.random() * 16)), v = value();
      if ((await paid('put-content', { key, value: v })).success !== true) throw failure('put-content: no success');
      stored.set(key, v);
    },
    async get() {
      const [key, v] = [...stored][Math.floor(Math.random() * stored.size)];
      if ((await paid('get-content', { key })).value !== v) throw failure('get-content: wrong value');
    },
    async list() {
      const { content } = await paid('get-content', {});
      for (const [key, v] of stored) if (content[key] !== v) throw failure('get-content {}: wrong listing');
    },
    async erase() {
      const [key] = [...stored][Math.floor(Math.random() * stored.size)];
      if ((await paid('put-content', { key, value: null })).deleted !== true) throw failure('put-content null: not deleted');
      stored.delete(key);
    },
    async http() {
      const [key, v] = [...stored][Math.floor(Math.random() * stored.size)];
      prices.route ??= clients.decodedRequired(await clients.getContent(key));
      const payment = await who.payments.createPaymentPayload(prices.route);
      const answer = await clients.getContent(key, clients.x402Headers(payment));
      if (answer.status !== 200) throw failure(`GET /content: ${answer.status}`, answer.body.slice(0, 80));
      if (JSON.parse(answer.body).value !== v) throw failure('GET /content: wrong value');
    },
    // A retry with a payment identifier: the same payment twice, one answer.
    async retried() {
      const key = keyOf(Math.floor(Math.random() * 16)), v = value();
      const required = structuredClone(await priceOf('put-content', { key, value: v }));
      clients.appendPaymentIdentifierToExtensions(required.extensions, clients.generatePaymentId());
      const payment = await who.payments.createPaymentPayload(required);
      const first = await clients.withPayment(session, 'put-content', { key, value: v }, payment);
      answerOf(clients, first, 'put-content (identified)');
      const again = await clients.withPayment(session, 'put-content', { key, value: v }, payment);
      if (JSON.stringify(again) !== JSON.stringify(first)) throw failure('put-content retry: another answer');
      stored.set(key, v);
    },
  };
  const mix = ['put', 'get', 'http', 'put', 'get', 'list', 'http', 'get', 'erase', 'retried'];
  await tally.time(ops.put);  // something to read; the session has paid, so the flood cannot replace it
  ready();
  for (let n = 0; n < maxOpsPerLoop && Date.now() < deadline; n++) {
    const op = stored.size === 0 ? 'put' : mix[(n + number) % mix.length];
    await tally.time(ops[op]);
  }
  await session.transport.terminateSession().catch(() => {});
  await session.client.close();
}

// ---------------------------------------------------------------- /proc sampling

function sampleOf(pid, since) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field) => Math.round(Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))[1]) / 102.4) / 10;
  return { t: Math.round((Date.now() - since) / 1000), rssMB: mb('VmRSS'), hwmMB: mb('VmHWM'),
           fds: readdirSync(`/proc/${pid}/fd`).length };
}

/**
 * Open descriptors once the clients' connections have closed (the server's
 * idle timeout is 15 s): back to `idle`, or unchanged for 5 s (a Redis store
 * keeps the connections it opened on first use), or after 40 s.
 */
async function settledFds(pid, idle) {
  let fds = Infinity, same = 0;
  for (let waited = 0; waited < 40 && same < 5; waited++) {
    const now = readdirSync(`/proc/${pid}/fd`).length;
    same = now === fds ? same + 1 : 0;
    fds = now;
    if (fds <= idle) break;
    await sleep(1000);
  }
  return fds;
}

// ---------------------------------------------------------------- one phase

async function phase(name, clients, wallets, pid, baselineFds) {
  const count = env('SOAK_CLIENTS', 64);
  const tally = new Tally();
  let attacks = null;
  if (name === 'attack') attacks = await startAttacks();  // fills its data set first, then waits for "go"
  const start = Date.now(), deadline = start + duration;
  const samples = [];
  const sampler = setInterval(() => samples.push(sampleOf(pid, start)), 2000);
  samples.push(sampleOf(pid, start));
  let waiting = count;
  const ready = () => { if (--waiting === 0) attacks?.go(); };  // once every client has paid once
  await Promise.all(Array.from({ length: count }, (_, i) => {
    let called = false;
    const once = () => { if (!called) { called = true; ready(); } };
    return legitimate(clients, i, wallets[i % wallets.length], deadline, tally, once).catch((error) => {
      const kind = `client: ${error.message.slice(0, 80)}`;
      tally.errors[kind] = (tally.errors[kind] ?? 0) + 1;
      once();
    });
  }));
  samples.push(sampleOf(pid, start));
  clearInterval(sampler);
  const attackReport = attacks ? await attacks.done : null;
  const seconds = (Date.now() - start) / 1000;
  const warmup = Math.min(env('SOAK_WARMUP', 60), duration / 2000);
  const baseline = samples.find((s) => s.t >= warmup) ?? samples.at(-1);
  const end = samples.at(-1);
  const fdsAfter = await settledFds(pid, baselineFds);
  const settled = sampleOf(pid, start);  // what the server keeps once its clients are gone
  const legit = tally.summary();
  return {
    phase: name, seconds: Math.round(seconds), clients: count, wallets: wallets.length,
    served: legit.ok, perSecond: Math.round(legit.ok / seconds), legit,
    rss: { atWarmupMB: baseline.rssMB, warmupS: baseline.t, endMB: end.rssMB, growthMB: Math.round((end.rssMB - baseline.rssMB) * 10) / 10,
           peakMB: Math.max(...samples.map((s) => s.hwmMB)), settledMB: settled.rssMB },
    fds: { idleBefore: baselineFds, duringMax: Math.max(...samples.map((s) => s.fds)), idleAfter: fdsAfter },
    attacks: attackReport,
    samples: samples.map((s) => [s.t, s.rssMB, s.fds]),
  };
}

/**
 * Spawns this script once per attack, each in its own process (parsing multi-megabyte
 * answers must not delay the timing of the slow sockets): each stores what
 * it needs, then waits for go(); done is their reports, merged.
 */
async function startAttacks() {
  const children = ['lists', 'slow', 'inits'].map((role) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'attack', role, ...process.argv.slice(2, 4)],
                        { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = readline.createInterface({ input: child.stdout });
    const closed = new Promise((_, reject) => child.once('close', (code) => reject(new Error(`attack ${role} exited with ${code}`))));
    const next = () => Promise.race([new Promise((resolve) => lines.once('line', (line) => resolve(JSON.parse(line)))), closed]);
    return { child, next };
  });
  const setup = Object.assign({}, ...await Promise.all(children.map((c) => c.next())));
  console.error(`soak: attack data set stored (${JSON.stringify(setup)})`);
  return {
    go: () => children.forEach((c) => c.child.stdin.write('go\n')),
    done: Promise.all(children.map((c) => c.next())).then((reports) => Object.assign({ setup }, ...reports)),
  };
}

// ---------------------------------------------------------------- attack loads

/** Prints the setup line, waits for "go", runs `load` until the deadline it is given, prints its report. */
async function attack(setup, load) {
  console.log(JSON.stringify(setup));
  await new Promise((resolve) => readline.createInterface({ input: process.stdin }).once('line', resolve));
  const deadline = Date.now() + duration;
  console.log(JSON.stringify(await load(() => Date.now() < deadline)));
}

/** (a) amplifying lists: paid get-content {} over the largest data set a payer may hold, alone and in JSON-RPC batches. */
async function amplifyingLists(clients, mcpUrl) {
  const entries = env('SOAK_HOARD_ENTRIES', 1000), valueLength = env('SOAK_HOARD_VALUE', 16384);
  const hoarders = await Promise.all([0, 1].map((i) => clients.connect(clients.wallet(`hoarder${i}`))));
  const putPrice = await clients.priceOf(hoarders[0], 'put-content', { key: 'k', value: 'v' });
  const listPrice = await clients.priceOf(hoarders[0], 'get-content', {});
  const pay = (session, price) => session.wallet.payments.createPaymentPayload(price);
  const fillStart = Date.now();
  await Promise.all(hoarders.flatMap((session) => Array.from({ length: 8 }, async (_, worker) => {
    for (let k = worker; k < entries; k += 8) {
      const args = { key: `h${k}`, value: String(k % 10).repeat(valueLength) };
      clients.paidOk(await clients.withPayment(session, 'put-content', args, await pay(session, putPrice)), 'hoard');
    }
  })));
  const setup = { hoarders: 2, entries, valueLength, fillSeconds: Math.round((Date.now() - fillStart) / 1000) };
  const batchSize = env('SOAK_BATCH', 10);
  let opened = await rawInitialize(mcpUrl, '2025-03-26');  // the last version with batches
  await attack(setup, async (running) => {
    const lists = new Tally(), batches = new Tally();
    let listBytes = 0, batchBytes = 0;
    const listing = hoarders.map(async (session) => {
      for (let n = 0; n < maxOpsPerLoop && running(); n++)
        await lists.time(async () => {
          const answer = clients.paidOk(await clients.withPayment(session, 'get-content', {}, await pay(session, listPrice)), 'list');
          // One capped page (PageLimits: 1 MiB by default), never the whole hoard.
          if (answer.count < 1 || answer.count >= entries || typeof answer.next_cursor !== 'string')
            throw failure(`list: ${answer.count} entries, next_cursor ${answer.next_cursor}`);
          listBytes += Object.values(answer.content).reduce((sum, v) => sum + v.length, 0);
        });
    });
    const batching = (async () => {
      for (let n = 0; n < maxOpsPerLoop && running(); n++)
        await batches.time(async () => {
          const calls = [];
          for (let i = 0; i < batchSize; i++)
            calls.push({ jsonrpc: '2.0', id: i + 1, method: 'tools/call', params: {
              name: 'get-content', arguments: {}, _meta: { 'x402/payment': await pay(hoarders[0], listPrice) } } });
          const response = await fetch(mcpUrl, { method: 'POST', body: JSON.stringify(calls), headers: {
            ...mcpHeaders, 'mcp-session-id': opened.session, 'mcp-protocol-version': '2025-03-26' } });
          const text = await response.text();
          // The flood may replace this session before it has paid: open another.
          if (response.status === 404) opened = await rawInitialize(mcpUrl, '2025-03-26');
          if (response.status !== 200) throw failure(`batch: ${response.status}`, text.slice(0, 80));
          // Requests after the batch's answers reach max_batch_answer_bytes are not run (-32000).
          const replies = JSON.parse(text);
          const served = replies.filter((reply) => reply.result && reply.result.isError !== true).length;
          const notRun = replies.filter((reply) => reply.error?.code === -32000).length;
          if (served < 1 || served + notRun !== batchSize)
            throw failure(`batch: ${served} served, ${notRun} not run, of ${batchSize}`);
          batchBytes += text.length;
        });
    })();
    await Promise.all([...listing, batching]);
    await Promise.all(hoarders.map((session) => session.client.close()));
    return { lists: { ...lists.summary(), megabytes: Math.round(listBytes / 1e6) },
             batches: { size: batchSize, ...batches.summary(), answerMegabytes: Math.round(batchBytes / 1e6) } };
  });
}

/** (b) slow connections: a request's headers, or its body, a byte a second. */
async function slowConnections(mcpUrl) {
  const url = new URL(mcpUrl);
  // The server's header_timeout and body_timeout (ServerOptions defaults),
  // and slack: a socket connected for longer is one the server forgot.
  const deadlineS = { header: 10 + 5, body: 30 + 5 };
  const count = env('SOAK_SLOW', 300);
  await attack({ slowSockets: count }, async (running) => {
    const slow = { header: [], body: [], openAtTheEnd: 0, overdue: 0, opened: 0, slowestConnectS: 0 };
    const slowSocket = (kind) => new Promise((resolve) => {
      const started = Date.now();
      let connected = 0, ours = false;
      const socket = net.connect(Number(url.port), url.hostname);
      const head = `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n`;
      const trickle = setInterval(() => {
        if (!running()) { ours = true; socket.destroy(); } else if (connected) socket.write(kind === 'header' ? 'X' : ' ');
      }, 1000);
      socket.on('connect', () => {
        connected = Date.now();
        slow.slowestConnectS = Math.max(slow.slowestConnectS, (connected - started) / 1000);
        socket.write(kind === 'header' ? `${head}X-Slow: ` : `${head}Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`);
      });
      socket.on('data', () => {});
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(trickle);
        const lived = connected ? (Date.now() - connected) / 1000 : 0;
        if (lived > deadlineS[kind]) slow.overdue += 1;
        if (ours) slow.openAtTheEnd += 1; else slow[kind].push(lived);
        resolve();
      });
    });
    await Promise.all(Array.from({ length: count }, async (_, i) => {
      for (let n = 0; n < maxOpsPerLoop && running(); n++, slow.opened++) await slowSocket(i % 2 ? 'body' : 'header');
    }));
    const seconds = (s) => (s.length ? { closedByServer: s.length, minS: Math.min(...s), maxS: Math.max(...s) } : null);
    return { slow: { sockets: count, opened: slow.opened, header: seconds(slow.header), body: seconds(slow.body),
                     openAtTheEnd: slow.openAtTheEnd, overdue: slow.overdue, slowestConnectS: slow.slowestConnectS } };
  });
}

/** (c) anonymous initialize floods: sessions never closed, never paid. */
async function initializeFlood(mcpUrl) {
  const inits = env('SOAK_INITS', 20000);
  await attack({ initializes: inits }, async (running) => {
    const statuses = {};
    let sent = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (sent < inits && running()) {
        sent += 1;
        const status = await rawInitialize(mcpUrl, '2025-11-25').then((r) => r.status, (e) => e.code ?? e.name);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }));
    return { initializes: { sent, statuses } };
  });
}

const mcpHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

async function rawInitialize(mcpUrl, version) {
  const response = await fetch(mcpUrl, { method: 'POST', headers: mcpHeaders, body: JSON.stringify({
    jsonrpc: '2.0', id: 1, method: 'initialize',
    params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'flood', version: '1' } } }) });
  await response.arrayBuffer();
  return { status: response.status, session: response.headers.get('mcp-session-id') };
}

// ---------------------------------------------------------------- main

async function soak(modules, mcpUrl, pid) {
  const clients = agentClients(modules, mcpUrl);
  const wallets = Array.from({ length: env('SOAK_WALLETS', 8) }, (_, i) => clients.wallet(`wallet${i}`));
  const baselineFds = readdirSync(`/proc/${pid}/fd`).length;
  const results = [];
  for (const name of (process.env.SOAK_PHASES ?? 'steady,attack').split(',')) {
    console.error(`soak: phase ${name}, ${duration / 1000} s ...`);
    const result = await phase(name, clients, wallets, pid, baselineFds);
    const { samples, ...shown } = result;
    console.error(`soak: ${JSON.stringify(shown, null, 1)}`);
    results.push(result);
  }
  const failures = [];
  for (const r of results) {
    if (r.legit.errors > 0) failures.push(`${r.phase}: ${r.legit.errors} errors of legitimate clients`);
    if (r.fds.idleAfter > r.fds.idleBefore + env('SOAK_FD_MARGIN', 4))
      failures.push(`${r.phase}: ${r.fds.idleAfter} descriptors open at the end, ${r.fds.idleBefore} before`);
    if (r.phase === 'steady' && r.rss.growthMB > env('SOAK_RSS_GROWTH_MB', 16))
      failures.push(`${r.phase}: RSS grew ${r.rss.growthMB} MB after the warm-up`);
    if (r.rss.peakMB > env('SOAK_MAX_RSS_MB', 2048)) failures.push(`${r.phase}: peak RSS ${r.rss.peakMB} MB`);
  }
  console.log(`soak-result ${JSON.stringify({ results, failures })}`);
  for (const why of failures) console.error(`soak: FAILED ${why}`);
  process.exit(failures.length ? 1 : 0);
}

const args = process.argv.slice(2);
if (args[0] === 'attack' && args.length === 4) {
  const [role, modules, mcpUrl] = args.slice(1);
  if (role === 'lists') await amplifyingLists(agentClients(modules, mcpUrl), mcpUrl);
  else if (role === 'slow') await slowConnections(mcpUrl);
  else await initializeFlood(mcpUrl);
  process.exit(0);
} else if (args.length === 3) {
  await soak(...args);
} else {
  console.error('usage: node soak.mjs MODULES MCP_URL SERVER_PID   (or: node soak.mjs attack lists|slow|inits MODULES MCP_URL)');
  process.exit(2);
}
