// Attacks on the paid state of the real agent-server, with payments signed by
// the official x402 client (@x402/core + @x402/evm, viem; payment identifiers
// by @x402/extensions/payment-identifier) and sent by the
// official MCP client (@modelcontextprotocol/sdk) or plain HTTP. Behind the
// server is the facilitator TEST DOUBLE (tests/payment/facilitator_double,
// mode /scripted): it checks no signature and moves no funds, but settles or
// refuses each payment as the test scripts it, and counts every call.
//
//   node attacks.mjs paid-state MODULES MCP_URL DOUBLE_URL [REDIS_URL]
//   node attacks.mjs drain      MODULES MCP_URL DOUBLE_URL REDIS_URL SERVER_PID
//
// MODULES is the directory whose node_modules holds the clients
// (examples/agent_demo). With REDIS_URL the session store is that Redis
// database: "the store is unchanged" is then a byte-for-byte comparison of
// every session key (DUMP), not only what the payer can list. Every check
// failing ends the run with exit status 1.
//
// The keys of alice and bob are the PUBLIC Hardhat/Anvil development keys
// #0 and #1; the other payers are random keys made for the run. Test only.
import assert from 'node:assert/strict';
import net from 'node:net';
import { agentClients } from './clients.mjs';

const [scenario, modules, mcpUrl, doubleUrl, redisUrl, serverPid] = process.argv.slice(2);
if (!scenario || !modules || !mcpUrl || !doubleUrl) {
  console.error('usage: node attacks.mjs paid-state|drain MODULES MCP_URL DOUBLE_URL [REDIS_URL [SERVER_PID]]');
  process.exit(2);
}
const {
  wallet, connect, priceOf, paymentFor, withPayment, paidOk, getContent, getPath, rawRequest, x402Headers, decodedRequired,
  server,
  appendPaymentIdentifierToExtensions, generatePaymentId,
} = agentClients(modules, mcpUrl);

// ---------------------------------------------------------------- Redis (RESP)

/** A minimal RESP2 client: enough for AUTH, SELECT, SCAN, DUMP and HGET. */
class Redis {
  static async connect(url) {
    const u = new URL(url);
    const redis = new Redis(net.connect(Number(u.port || 6379), u.hostname));
    await new Promise((resolve, reject) => redis.socket.once('connect', resolve).once('error', reject));
    if (u.password) await redis.command('AUTH', decodeURIComponent(u.username || 'default'), decodeURIComponent(u.password));
    const db = u.pathname.replace('/', '');
    if (db) await redis.command('SELECT', db);
    return redis;
  }
  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.waiting = [];
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const parsed = Redis.parse(this.buffer, 0);
        if (!parsed) break;
        this.buffer = this.buffer.subarray(parsed.end);
        this.waiting.shift()(parsed.value);
      }
    });
  }
  static parse(buffer, at) {
    const eol = buffer.indexOf('\r\n', at);
    if (eol < 0) return null;
    const type = String.fromCharCode(buffer[at]);
    const line = buffer.toString('latin1', at + 1, eol);
    if (type === '+' ) return { value: line, end: eol + 2 };
    if (type === '-') return { value: new Error(line), end: eol + 2 };
    if (type === ':') return { value: Number(line), end: eol + 2 };
    if (type === '$') {
      const n = Number(line);
      if (n < 0) return { value: null, end: eol + 2 };
      if (buffer.length < eol + 2 + n + 2) return null;
      return { value: buffer.subarray(eol + 2, eol + 2 + n), end: eol + 2 + n + 2 };
    }
    if (type === '*') {
      const n = Number(line);
      const items = [];
      let end = eol + 2;
      for (let i = 0; i < n; i++) {
        const item = Redis.parse(buffer, end);
        if (!item) return null;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    throw new Error(`RESP: unexpected type ${type}`);
  }
  command(...args) {
    const parts = [`*${args.length}\r\n`];
    for (const arg of args) parts.push(`$${Buffer.byteLength(String(arg))}\r\n${arg}\r\n`);
    this.socket.write(parts.join(''));
    return new Promise((resolve, reject) =>
      this.waiting.push((value) => (value instanceof Error ? reject(value) : resolve(value))));
  }
  /** Every key but the replay claims, sorted, each with its DUMP (hex). */
  async snapshot() {
    const keys = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.command('SCAN', cursor, 'COUNT', 1000);
      cursor = next.toString();
      for (const key of batch) keys.push(key.toString('latin1'));
    } while (cursor !== '0');
    const session = keys.filter((key) => !key.startsWith('x402:replay:')).sort();
    const dump = {};
    for (const key of session) dump[key] = (await this.command('DUMP', key))?.toString('hex') ?? null;
    return dump;
  }
  /** The value RedisStore keeps for (payer, key), or null. */
  async value(payer, key) {
    const hex = Buffer.from(payer.toLowerCase(), 'utf8').toString('hex');
    const value = await this.command('HGET', `x402:session:{p${hex}}:v:${key}`, 'v');
    return value === null ? null : value.toString('utf8');
  }
  close() {
    this.socket.end();
  }
}

// ---------------------------------------------------------------- the double

async function double(method, route, body) {
  const response = await fetch(new URL(route, doubleUrl.replace(/\/scripted\/?$/, '/')), {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(response.status, 200, `facilitator double ${route}`);
  return response.json();
}
const scriptSettle = (payment, plan) => double('POST', '/script', { nonce: nonceOf(payment), ...plan });
const calls = () => double('GET', '/calls');
const nonceOf = (payment) => payment.payload.authorization.nonce;

// ---------------------------------------------------------------- payers

function refusedWith(result, reason, what) {
  assert.equal(result.isError, true, `${what}: refused (${JSON.stringify(result)})`);
  assert.equal(result.structuredContent?.error, reason, `${what}: ${JSON.stringify(result.structuredContent)}`);
}

async function put(session, key, value) {
  const args = { key, value };
  return paidOk(await withPayment(session, 'put-content', args, await paymentFor(session, 'put-content', args)),
                `${session.wallet.name} put ${key}`);
}

/** One page of a paid listing (get-content without a key). */
async function listPage(session, cursor) {
  const args = cursor === undefined ? {} : { cursor };
  return paidOk(await withPayment(session, 'get-content', args, await paymentFor(session, 'get-content', args)),
                `${session.wallet.name} list`);
}

/** Everything the payer holds, page by page (one paid listing a page). */
async function listing(session) {
  const content = {};
  let cursor;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 100, 'a listing ends');
    const page = await listPage(session, cursor);
    Object.assign(content, page.content);
    if (page.next_cursor === undefined) return content;
    cursor = page.next_cursor;
  }
}

let checks = 0;
async function check(title, body) {
  await body();
  checks += 1;
  console.log(`ok ${checks} ${title}`);
}

// ---------------------------------------------------------------- paid state

async function paidState() {
  const redis = redisUrl ? await Redis.connect(redisUrl) : null;
  const alice = await connect(wallet('alice', '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'));
  const bob = await connect(wallet('bob', '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'));
  await put(alice, 'color', 'blue');
  await put(bob, 'color', 'green');

  /** Runs `attack`, then asserts the store is exactly as before it. */
  async function unchanged(attack) {
    const before = redis ? await redis.snapshot() : null;
    if (redis) assert.ok(Object.keys(before).length > 0, 'the snapshot holds the payers\' data');
    await attack();
    if (redis) assert.deepEqual(await redis.snapshot(), before, 'the Redis store is byte-for-byte unchanged');
  }

  await check('a priced resource read and a priced prompt serve each payer only their own value; a missing key costs nothing',
              async () => {
    const meta = (payment) => (payment ? { _meta: { 'x402/payment': payment } } : {});
    const read = (session, uri, payment) => session.client.readResource({ uri, ...meta(payment) });
    const recall = (session, key, payment) =>
      session.client.getPrompt({ name: 'recall-content', arguments: { key }, ...meta(payment) });
    /** The PaymentRequired of an unpaid request: its JSON-RPC error 402. */
    const priceOfUnpaid = async (request) => {
      const error = await request().then(() => null, (e) => e);
      assert.ok(error, 'the unpaid request is refused');
      assert.equal(error.code, 402, `unpaid: ${error}`);
      assert.equal(error.data.x402Version, 2);
      return error.data;
    };
    const paid = async (session, request) => {
      const payment = await session.wallet.payments.createPaymentPayload(await priceOfUnpaid(() => request(session)));
      const result = await request(session, payment);
      assert.equal(result._meta?.['x402/payment-response']?.success, true, 'the receipt is attached');
      return result;
    };
    for (const [session, value] of [[alice, 'blue'], [bob, 'green']]) {
      const contents = (await paid(session, (s, p) => read(s, 'content://color', p))).contents;
      assert.deepEqual(contents, [{ uri: 'content://color', mimeType: 'text/plain', text: value }]);
      const messages = (await paid(session, (s, p) => recall(s, 'color', p))).messages;
      assert.equal(messages[0].content.type, 'resource');
      assert.equal(messages[0].content.resource.text, value, `${session.wallet.name} recalls only their own value`);
    }
    for (const [what, request] of [['read', (s, p) => read(s, 'content://missing', p)],
                                   ['prompt', (s, p) => recall(s, 'missing', p)]]) {
      const payment = await alice.wallet.payments.createPaymentPayload(await priceOfUnpaid(() => request(alice)));
      await unchanged(async () => {
        const error = await request(alice, payment).then(() => null, (e) => e);
        assert.equal(error?.code, -32002, `a ${what} of a missing key is "resource not found"`);
      });
      assert.equal((await calls()).settle[nonceOf(payment)] ?? 0, 0, `a ${what} of a missing key is not settled`);
    }
  });

  for (const [how, plan, reason] of [
    ['refused by the facilitator', { settle: 'fail' }, 'invalid_exact_evm_transaction_failed'],
    ['failing (HTTP 500)', { settle: 'status500' }, 'unexpected_settle_error'],
  ]) {
    await check(`a write whose settlement is ${how} is not kept, and its payment cannot run again`, async () => {
      const args = { key: 'color', value: 'unpaid' };
      const payment = await paymentFor(alice, 'put-content', args);
      await scriptSettle(payment, plan);
      await unchanged(async () => {
        refusedWith(await withPayment(alice, 'put-content', args, payment), reason, 'unsettled write');
        refusedWith(await withPayment(alice, 'put-content', args, payment), 'invalid_exact_evm_nonce_already_used',
                    'the same payment again');
      });
      assert.equal((await calls()).settle[nonceOf(payment)], 1, 'settled once, never again');
      assert.deepEqual(await listing(alice), { color: 'blue' });
    });
  }

  await check('one payment sent 12 times at once on 12 connections runs the handler once', async () => {
    const payment = await paymentFor(alice, 'put-content', { key: 'once', value: 'x' });
    const copies = await Promise.all(Array.from({ length: 12 }, () => connect(alice.wallet)));
    const results = await Promise.all(copies.map((session, i) =>
      withPayment(session, 'put-content', { key: 'once', value: `copy-${i}` }, payment)));
    const won = results.map((result, i) => [result, i]).filter(([result]) => result.isError !== true);
    assert.equal(won.length, 1, 'exactly one copy ran');
    for (const result of results.filter((r) => r.isError === true))
      assert.equal(result.structuredContent.error, 'invalid_exact_evm_nonce_already_used');
    assert.equal((await calls()).settle[nonceOf(payment)], 1, 'settled once');
    assert.deepEqual(await listing(alice), { color: 'blue', once: `copy-${won[0][1]}` });
    await Promise.all(copies.map((session) => session.client.close()));
  });

  await check('a Permit2 payment, with or without a decoy EIP-3009 authorization, never runs a handler', async () => {
    const args = { key: 'color', value: 'permit2' };
    const required = await priceOf(alice, 'put-content', args);
    const permit2Required = structuredClone(required);
    permit2Required.accepts[0].extra.assetTransferMethod = 'permit2';
    const permit2 = await alice.wallet.payments.createPaymentPayload(permit2Required);
    assert.ok(permit2.payload.permit2Authorization, 'the official client made a Permit2 payload');
    permit2.accepted = required.accepts[0];
    const decoyOf = (eip3009) => {
      const decoy = structuredClone(permit2);
      decoy.payload.authorization = eip3009.payload.authorization;
      return decoy;
    };
    // Ten decoys, each with the authorization of a fresh real EIP-3009 payment.
    const decoys = [];
    for (let i = 0; i < 10; i++) decoys.push(decoyOf(await alice.wallet.payments.createPaymentPayload(required)));
    const sessions = await Promise.all(decoys.map(() => connect(alice.wallet)));
    const before = await listing(alice);
    await unchanged(async () => {
      const results = await Promise.all(decoys.map((decoy, i) => withPayment(sessions[i], 'put-content', args, decoy)));
      for (const result of results) refusedWith(result, 'invalid_payload', 'Permit2 with a decoy');
      refusedWith(await withPayment(alice, 'put-content', args, permit2), 'unsupported_payload_type', 'plain Permit2');
    });
    const seen = await calls();
    for (const decoy of decoys) assert.equal(seen.verify[nonceOf(decoy)], undefined, 'never sent to the facilitator');
    await Promise.all(sessions.map((session) => session.client.close()));
    assert.deepEqual(await listing(alice), before);
  });

  await check('a payment buys only the tool or route it was made for, and a mismatch does not use it up', async () => {
    const forGet = await paymentFor(alice, 'get-content', { key: 'color' });
    await unchanged(async () => {
      refusedWith(await withPayment(alice, 'put-content', { key: 'color', value: 'cheap' }, forGet),
                  'resource_mismatch', 'get-content payment on put-content');
      const http402 = await getContent('color', x402Headers(forGet));
      assert.equal(http402.status, 402, 'get-content payment on GET /content');
      assert.equal(decodedRequired(http402).error, 'resource_mismatch');
    });
    assert.equal((await calls()).verify[nonceOf(forGet)], undefined, 'not verified');
    const answer = paidOk(await withPayment(alice, 'get-content', { key: 'color' }, forGet), 'the payment where it belongs');
    assert.equal(answer.value, 'blue');
  });

  await check('a request refused for a bad key or bad arguments does not use its payment', async () => {
    const unpaid = await getContent('color');
    assert.equal(unpaid.status, 402);
    const routePayment = await alice.wallet.payments.createPaymentPayload(decodedRequired(unpaid));
    const badKey = await getContent('bad\u00ff', x402Headers(routePayment));
    assert.equal(badKey.status, 400, `a key that is not UTF-8: ${badKey.body}`);
    assert.equal(JSON.parse(badKey.body).error, 'invalid_utf8');
    assert.match(JSON.parse(badKey.body).reason, /UTF-8/);
    const good = await getContent('color', x402Headers(routePayment));
    assert.equal(good.status, 200, good.body);
    assert.equal(JSON.parse(good.body).value, 'blue');
    assert.ok(good.headers['payment-response'], 'receipt header');

    const args = { key: 'color', value: 'paid' };
    const payment = await paymentFor(alice, 'put-content', args);
    await unchanged(async () => {
      const wrongType = await withPayment(alice, 'put-content', { key: 'color', value: 42 }, payment);
      assert.equal(wrongType.isError, true, 'schema-invalid arguments are refused');
      assert.notEqual(wrongType.structuredContent?.x402Version, 2, 'refused for its arguments, not as a payment');
      assert.match(wrongType.content[0].text, /value/, `the refusal names the argument: ${wrongType.content[0].text}`);
    });
    assert.equal((await calls()).verify[nonceOf(payment)], undefined, 'not verified');
    paidOk(await withPayment(alice, 'put-content', args, payment), 'the same payment with valid arguments');
    assert.equal((await listing(alice)).color, 'paid');
  });

  await check('DNS rebinding: a foreign Host or Origin is refused on /mcp and /content before any payment is looked at',
              async () => {
    const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'attacks', version: '1' } } });
    const mcpHeaders = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    const own = `127.0.0.1:${server.port}`;
    const refusals = [
      ['a foreign Host on /mcp', 'POST', server.pathname, { ...mcpHeaders, Host: 'evil.example.com' }, 421, 'host_not_allowed'],
      ['a foreign Host with the port on /mcp', 'POST', server.pathname,
       { ...mcpHeaders, Host: `evil.example.com:${server.port}` }, 421, 'host_not_allowed'],
      ['a foreign Origin on /mcp', 'POST', server.pathname,
       { ...mcpHeaders, Host: own, Origin: 'http://evil.example.com' }, 403, 'origin_not_allowed'],
      ['a foreign Host on /content', 'GET', '/content/color', { Host: 'evil.example.com' }, 421, 'host_not_allowed'],
      ['a foreign Origin on /content', 'GET', '/content/color', { Host: own, Origin: 'http://evil.example.com' },
       403, 'origin_not_allowed'],
    ];
    const unpaid = await getContent('color');
    const routePayment = await alice.wallet.payments.createPaymentPayload(decodedRequired(unpaid));
    await unchanged(async () => {
      for (const [what, method, target, headers, status, error] of refusals) {
        const paid = target.startsWith('/content') ? x402Headers(routePayment) : {};
        const answer = await rawRequest(method, target, { ...headers, ...paid }, method === 'POST' ? initialize : '');
        assert.equal(answer.status, status, `${what}: ${answer.body}`);
        assert.equal(JSON.parse(answer.body).error, error, what);
      }
    });
    assert.equal((await calls()).verify[nonceOf(routePayment)], undefined, 'the payment was never verified');
    // Loopback names and Origins are served.
    const initialized = await rawRequest('POST', server.pathname,
      { ...mcpHeaders, Host: `localhost:${server.port}`, Origin: 'http://localhost:6274' }, initialize);
    assert.equal(initialized.status, 200, initialized.body);
    assert.equal(JSON.parse(initialized.body).result.protocolVersion, '2025-11-25');
    const served = await rawRequest('GET', '/content/color', { Host: `[::1]:${server.port}`, ...x402Headers(routePayment) });
    assert.equal(served.status, 200, served.body);
    assert.equal(JSON.parse(served.body).value, (await listing(alice)).color);
  });

  await check('a payment valid for decades (validBefore far beyond maxTimeoutSeconds) is refused unverified', async () => {
    const args = { key: 'color', value: 'forever' };
    const required = await priceOf(alice, 'put-content', args);
    const longLived = structuredClone(required);
    longLived.accepts[0].maxTimeoutSeconds = 1_000_000_000; // the official client signs now + this
    const payment = await alice.wallet.payments.createPaymentPayload(longLived);
    payment.accepted = required.accepts[0]; // presented as a payment for the real requirements
    assert.ok(Number(payment.payload.authorization.validBefore) > Date.now() / 1000 + 1e8);
    await unchanged(async () => {
      refusedWith(await withPayment(alice, 'put-content', args, payment),
                  'invalid_exact_evm_payload_authorization_valid_before', 'far-future validBefore');
    });
    assert.equal((await calls()).verify[nonceOf(payment)], undefined, 'never sent to the facilitator');
  });

  /** The price of a call with a fresh payment identifier, as the official helper adds it. */
  async function identifiedPrice(session, name, args) {
    const required = await priceOf(session, name, args);
    assert.deepEqual(required.extensions?.['payment-identifier']?.info, { required: false },
                     'the 402 declares payment-identifier');
    const id = generatePaymentId();
    appendPaymentIdentifierToExtensions(required.extensions, id);
    return { required, id };
  }

  await check('a dropped connection\'s retry with a payment identifier gets the first answer: one run, one settlement',
              async () => {
    const args = { key: 'retried', value: 'first' };
    const { required, id } = await identifiedPrice(alice, 'put-content', args);
    const payment = await alice.wallet.payments.createPaymentPayload(required);
    assert.equal(payment.extensions?.['payment-identifier']?.info?.id, id, 'the client sends the identifier');
    const first = await withPayment(alice, 'put-content', args, payment);
    paidOk(first, 'the first call');
    // The client never saw that answer: it sends the same payment again, on a new connection.
    const reconnected = await connect(alice.wallet);
    assert.deepEqual(await withPayment(reconnected, 'put-content', args, payment), first, 'the same payment again');
    // Or signs anew with the same identifier: verified as the same payer, answered, not charged.
    const resigned = await alice.wallet.payments.createPaymentPayload(required);
    assert.notEqual(nonceOf(resigned), nonceOf(payment));
    await unchanged(async () => {
      assert.deepEqual(await withPayment(reconnected, 'put-content', args, resigned), first, 'a new signature');
    });
    const seen = await calls();
    assert.equal(seen.settle[nonceOf(payment)], 1, 'the first payment settled once');
    assert.equal(seen.settle[nonceOf(resigned)], undefined, 'the new signature was never settled');
    assert.equal(seen.verify[nonceOf(resigned)], 1, 'the new signature was verified');
    // The same identifier for another request is a conflict, with nothing kept or charged.
    const other = await alice.wallet.payments.createPaymentPayload(required);
    await unchanged(async () => {
      const conflict = await withPayment(reconnected, 'put-content', { key: 'retried', value: 'second' }, other);
      assert.equal(conflict.isError, true, JSON.stringify(conflict));
      assert.match(conflict.content[0].text, /payment_identifier_conflict: payment-identifier: already used for a different request/);
    });
    assert.equal((await calls()).settle[nonceOf(other)], undefined, 'the conflicting payment was not settled');
    assert.equal((await listing(alice)).retried, 'first');
    if (redis) assert.equal(await redis.value(alice.wallet.address, 'retried'), 'first');
    await reconnected.client.close();
  });

  await check('12 retries of one identified call sent at once (12 signatures, 12 connections) run it once', async () => {
    const args = { key: 'burst', value: 'once' };
    const { required } = await identifiedPrice(alice, 'put-content', args);
    const payments = await Promise.all(Array.from({ length: 12 }, () => alice.wallet.payments.createPaymentPayload(required)));
    const sessions = await Promise.all(payments.map(() => connect(alice.wallet)));
    // Each settlement takes 200 ms, so the copies meet the first one running.
    await Promise.all(payments.map((payment) => scriptSettle(payment, { settle: 'valid', settleDelayMs: 200 })));
    const results = await Promise.all(sessions.map((session, i) => withPayment(session, 'put-content', args, payments[i])));
    const served = results.filter((result) => result.isError !== true);
    const running = results.filter((result) => result.isError === true);
    assert.ok(served.length >= 1, 'one copy was served');
    for (const result of served) assert.deepEqual(result, served[0], 'every served copy has the one answer');
    for (const result of running)
      assert.match(result.content[0].text, /payment_identifier_conflict: payment-identifier: a request with this identifier is still running/);
    const seen = await calls();
    assert.equal(payments.reduce((n, payment) => n + (seen.settle[nonceOf(payment)] ?? 0), 0), 1, 'one settlement in all');
    await Promise.all(sessions.map((session) => session.client.close()));
  });

  await check('a paid HTTP route retried with a payment identifier answers the same, settled once', async () => {
    const unpaid = await getContent('color');
    assert.equal(unpaid.status, 402);
    const required = decodedRequired(unpaid);
    const id = generatePaymentId();
    appendPaymentIdentifierToExtensions(required.extensions, id);
    const payment = await alice.wallet.payments.createPaymentPayload(required);
    const first = await getContent('color', x402Headers(payment));
    assert.equal(first.status, 200, first.body);
    const retry = await getContent('color', x402Headers(payment));
    assert.equal(retry.status, 200, retry.body);
    assert.equal(retry.body, first.body);
    assert.equal(retry.headers['payment-response'], first.headers['payment-response']);
    assert.equal((await calls()).settle[nonceOf(payment)], 1);
    // The same identifier on another target (a query added) conflicts.
    const elsewhere = await getContent('color?again=1', x402Headers(await alice.wallet.payments.createPaymentPayload(required)));
    assert.equal(elsewhere.status, 409, `another target with the same identifier: ${elsewhere.body}`);
    assert.equal(JSON.parse(elsewhere.body).error, 'payment_identifier_conflict');
  });

  await check('a value longer than put-content allows is refused before payment', async () => {
    const args = { key: 'big', value: 'x'.repeat(16_385) };
    const payment = await paymentFor(alice, 'put-content', { key: 'big', value: 'small' });
    await unchanged(async () => {
      const refused = await withPayment(alice, 'put-content', args, payment);
      assert.equal(refused.isError, true, JSON.stringify(refused).slice(0, 300));
      assert.match(refused.content[0].text, /must be at most 16384 characters long/);
    });
    assert.equal((await calls()).verify[nonceOf(payment)], undefined, 'never verified: the payment is unused');
  });

  /** Says which env-gated check this scenario does not run, so that a skip is seen. */
  const skip = (what, variable) => console.log(`skip ${what}: ${variable} is not set for this scenario`);

  const pageBytes = Number(process.env.X402_PAGE_BYTES ?? 0);
  if (!(pageBytes > 0)) skip('the capped listing', 'X402_PAGE_BYTES');
  if (pageBytes > 0) {
    await check(`a listing answers one page of at most ${pageBytes} bytes, and next_cursor gives the rest`, async () => {
      const lister = await connect(wallet('lister'));
      const value = 'v'.repeat(Math.floor(pageBytes / 4));
      for (let i = 0; i < 10; i++) await put(lister, `k${i}`, value);
      const first = await listPage(lister);
      const inFirst = Object.keys(first.content);
      assert.ok(inFirst.length >= 1 && inFirst.length < 10, `one page, not all 10: ${inFirst.length}`);
      assert.equal(first.count, inFirst.length);
      const bytes = inFirst.reduce((sum, key) => sum + key.length + first.content[key].length, 0);
      assert.ok(bytes <= pageBytes, `page bytes ${bytes} <= ${pageBytes}`);
      assert.equal(typeof first.next_cursor, 'string');
      const all = await listing(lister);
      assert.deepEqual(Object.keys(all).sort(), Array.from({ length: 10 }, (_, i) => `k${i}`).sort());
      // A malformed cursor is a failed result: refused, not charged.
      const bad = { cursor: 'c:zz' };
      const payment = await paymentFor(lister, 'get-content', bad);
      const refused = await withPayment(lister, 'get-content', bad, payment);
      assert.equal(refused.isError, true, JSON.stringify(refused).slice(0, 300));
      assert.match(refused.content[0].text, /malformed list cursor/);
      assert.equal((await calls()).settle[nonceOf(payment)], undefined, 'never settled');
      await lister.client.close();
    });
  }

  const quota = Number(process.env.X402_PAYER_QUOTA ?? 0);
  if (quota > 0 && !redis) {
    await check(`one payer writing past its quota (${quota}) evicts only its own oldest entries`, async () => {
      const aliceBefore = await listing(alice);
      const bobBefore = await listing(bob);
      const flooder = await connect(wallet('flooder'));
      for (let i = 0; i < quota + 5; i++) await put(flooder, `f${i}`, 'x');
      const held = await listing(flooder);
      assert.equal(Object.keys(held).length, quota, 'the flooder holds its quota');
      assert.equal(held.f0, undefined, 'its oldest went first');
      assert.equal(held[`f${quota + 4}`], 'x');
      assert.deepEqual(await listing(bob), bobBefore, 'bob keeps every entry');
      assert.deepEqual(await listing(alice), aliceBefore, 'alice keeps every entry');
      await flooder.client.close();
    });
  }

  await check('8 payers writing at once, a third of the settlements refused: exactly the settled writes are kept', async () => {
    const payers = await Promise.all(Array.from({ length: 8 }, (_, i) => connect(wallet(`payer${i}`))));
    const expected = payers.map(() => ({}));
    await Promise.all(payers.map(async (session, p) => {
      await Promise.all(Array.from({ length: 6 }, async (_, k) => {
        const args = { key: `k${k}`, value: `v${p}-${k}` };
        const payment = await paymentFor(session, 'put-content', args);
        const refuse = (p + k) % 3 === 0;
        if (refuse) await scriptSettle(payment, { settle: 'fail', settleDelayMs: 20 });
        const result = await withPayment(session, 'put-content', args, payment);
        if (refuse) {
          refusedWith(result, 'invalid_exact_evm_transaction_failed', 'refused settlement');
        } else {
          paidOk(result, 'settled write');
          expected[p][args.key] = args.value;
        }
      }));
    }));
    for (const [p, session] of payers.entries()) {
      assert.deepEqual(await listing(session), expected[p], `payer ${p} holds exactly its settled writes`);
      if (redis)
        for (let k = 0; k < 6; k++)
          assert.equal(await redis.value(session.wallet.address, `k${k}`), expected[p][`k${k}`] ?? null);
    }
    assert.deepEqual(await listing(bob), { color: 'green' }, 'bob is untouched');
    await Promise.all(payers.map((session) => session.client.close()));
  });

  const headerTimeout = Number(process.env.X402_HEADER_TIMEOUT_MS ?? 0);
  if (!(headerTimeout > 0)) skip('the stalled clients', 'X402_HEADER_TIMEOUT_MS');
  if (headerTimeout > 0) {
    await check(`60 clients stalling in their headers or body are closed at the ${headerTimeout} ms deadlines, ` +
                'while a paying client is served', async () => {
      const stall = (partial) => new Promise((resolve, reject) => {
        const socket = net.connect(Number(server.port), server.hostname);
        const opened = Date.now();
        socket.on('connect', () => socket.write(partial));
        socket.on('data', () => {});
        socket.on('error', () => {});
        socket.on('close', () => resolve(Date.now() - opened));
        setTimeout(() => { socket.destroy(); reject(new Error('a stalled connection was never closed')); },
                   headerTimeout * 10);
      });
      const host = `Host: 127.0.0.1:${server.port}\r\n`;
      const stalled = [
        ...Array.from({ length: 30 }, () => stall(`POST /mcp HTTP/1.1\r\n${host}Content-Type: appl`)),
        ...Array.from({ length: 30 }, () => stall(`POST /mcp HTTP/1.1\r\n${host}Content-Length: 1000\r\n\r\n{"json`)),
      ];
      const page = await listPage(alice);
      assert.equal(page.success, true, 'alice is served beside them');
      const lifetimes = await Promise.all(stalled);
      for (const lifetime of lifetimes) {
        assert.ok(lifetime >= headerTimeout - 100, `closed after ${lifetime} ms, not before the deadline`);
        assert.ok(lifetime < headerTimeout + 3000, `closed after ${lifetime} ms, soon after the deadline`);
      }
    });
  }

  if (process.env.X402_METRICS !== '1') skip('GET /metrics', 'X402_METRICS');
  if (process.env.X402_METRICS === '1') {
    await check('GET /metrics counts what the attacks above did, in the Prometheus text format', async () => {
      const page = await getPath('/metrics');
      assert.equal(page.status, 200);
      assert.match(page.headers['content-type'], /^text\/plain; version=0\.0\.4/);
      const sample = (name) => {
        const line = page.body.split('\n').find((l) => l.startsWith(`${name} `));
        assert.ok(line, `${name} in ${page.body.slice(0, 2000)}`);
        return Number(line.split(' ')[1]);
      };
      assert.ok(sample('x402_payment_served_total') >= 10, 'paid calls served');
      assert.ok(sample('x402_payment_settlements_failed_total') >= 16, 'the refused settlements above');
      assert.ok(sample('x402_payment_commits_total') >= sample('x402_payment_served_total'));
      assert.equal(sample('x402_payment_commits_failed_total'), 0);
      assert.ok(sample('x402_http_requests_total') > sample('x402_payment_requests_total'));
      assert.ok(sample('x402_mcp_sessions_open') >= 2, 'alice and bob are connected');
      assert.ok(sample('x402_http_connections_open') >= 1);
      assert.ok(sample('x402_store_evictions_total') >= 5, 'the quota flood evicted the flooder\'s own entries');
      if (headerTimeout > 0) assert.ok(sample('x402_http_connections_timed_out_total') >= 60, 'the stalled clients');
      assert.match(page.body, /^x402_payment_refusals_total\{reason="invalid_exact_evm_nonce_already_used"\} [1-9]/m);
      assert.match(page.body, /^x402_payment_refusals_total\{reason="invalid_exact_evm_transaction_failed"\} [1-9]/m);
    });
  }

  await alice.client.close();
  await bob.client.close();
  redis?.close();
}

// ---------------------------------------------------------------- drain

/**
 * SIGTERM while paid writes are between verify and settle: every write the
 * facilitator settled is in Redis afterwards, with its value, and the calls
 * in flight at the signal were answered.
 */
async function drain() {
  assert.ok(redisUrl && serverPid, 'drain needs REDIS_URL and SERVER_PID');
  await double('POST', '/script', { defaultSettleDelayMs: 400 });
  const payers = await Promise.all(Array.from({ length: 8 }, (_, i) => connect(wallet(`payer${i}`))));
  const byNonce = new Map();
  const answered = new Set();
  let signalled = 0;
  let answeredAfterSignal = 0;
  const loops = payers.map(async (session, p) => {
    for (let k = 0; ; k++) {
      const args = { key: `k${k}`, value: `v${p}-${k}` };
      let payment;
      try {
        payment = await paymentFor(session, 'put-content', args);
      } catch {
        return; // the server is gone
      }
      byNonce.set(nonceOf(payment), { address: session.wallet.address, ...args });
      const sentAt = Date.now();
      let result;
      try {
        result = await withPayment(session, 'put-content', args, payment);
      } catch {
        return;
      }
      if (result.isError !== true) answered.add(nonceOf(payment));
      if (signalled && sentAt < signalled) {
        paidOk(result, 'a call in flight at SIGTERM is answered');
        answeredAfterSignal += 1;
      }
    }
  });
  // Let every payer get a call in flight, then signal.
  for (let waited = 0; waited < 100 && Object.keys((await calls()).verify).length < 16; waited++)
    await new Promise((resolve) => setTimeout(resolve, 100));
  signalled = Date.now();
  process.kill(Number(serverPid), 'SIGTERM');
  await Promise.all(loops);
  for (;;) {
    try {
      process.kill(Number(serverPid), 0);
      await new Promise((resolve) => setTimeout(resolve, 100));
    } catch {
      break; // exited
    }
  }
  const { settled } = await calls();
  assert.ok(settled.length >= 8, `payments settled before and during the drain: ${settled.length}`);
  assert.ok(answeredAfterSignal >= 1, 'calls in flight at the signal were finished, not dropped');
  const redis = await Redis.connect(redisUrl);
  for (const nonce of settled) {
    const write = byNonce.get(nonce);
    assert.ok(write, 'a settled payment is one of ours');
    assert.ok(answered.has(nonce), `settled ${write.key} was answered, not dropped`);
    assert.equal(await redis.value(write.address, write.key), write.value, `settled ${write.key} was committed`);
  }
  redis.close();
  await check(`SIGTERM mid-load: ${settled.length} settled payments, every one committed; ` +
              `${answeredAfterSignal} calls in flight at the signal finished`, async () => {});
}

if (scenario === 'paid-state') await paidState();
else if (scenario === 'drain') await drain();
else throw new Error(`unknown scenario ${scenario}`);
console.log(`attacks (${scenario}${redisUrl ? ', Redis' : ', memory'}): ${checks} checks passed`);
process.exit(0);
