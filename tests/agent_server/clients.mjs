// The official clients, bound to one agent-server: payers (@x402/core +
// @x402/evm, viem), MCP sessions (@modelcontextprotocol/sdk) and the paid
// HTTP route. Shared by the attack tests (attacks.mjs) and the soak
// (bench/soak/soak.mjs), so both pay the way a real client does.
//
//   const clients = agentClients(MODULES, MCP_URL);
//
// MODULES is the directory whose node_modules holds the clients
// (examples/agent_demo). The asserting helpers throw AssertionError.
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';

export function agentClients(modules, mcpUrl) {
  const require = createRequire(path.join(path.resolve(modules), 'package.json'));
  const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const { x402Client, x402HTTPClient } = require('@x402/core/client');
  const { registerExactEvmScheme } = require('@x402/evm/exact/client');
  const { appendPaymentIdentifierToExtensions, generatePaymentId } = require('@x402/extensions/payment-identifier');
  const { privateKeyToAccount, generatePrivateKey } = require('viem/accounts');
  const server = new URL(mcpUrl);

  /** A payer: a viem account (a fresh random key unless given) and an x402 client signing with it. */
  function wallet(name, key = generatePrivateKey()) {
    const account = privateKeyToAccount(key);
    const payments = new x402Client();
    registerExactEvmScheme(payments, { signer: account });
    return { name, account, payments, address: account.address };
  }

  /** An initialized MCP session of `who`. */
  async function connect(who) {
    const client = new Client({ name: `x402-session-${who.name}`, version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(server);
    await client.connect(transport);
    return { client, transport, wallet: who };
  }

  /** The PaymentRequired of a tool, from an unpaid call. */
  async function priceOf(session, name, args) {
    const unpaid = await session.client.callTool({ name, arguments: args });
    assert.equal(unpaid.isError, true, `${name} unpaid is refused`);
    assert.equal(unpaid.structuredContent.error, 'payment_required');
    return unpaid.structuredContent;
  }

  /** A fresh payment for a tool, signed by the session's payer. */
  async function paymentFor(session, name, args) {
    return session.wallet.payments.createPaymentPayload(await priceOf(session, name, args));
  }

  const withPayment = (session, name, args, payment) =>
    session.client.callTool({ name, arguments: args, _meta: { 'x402/payment': payment } });

  /** The answer of a paid call that succeeded with a receipt. */
  function paidOk(result, what) {
    assert.notEqual(result.isError, true, `${what}: ${JSON.stringify(result)}`);
    assert.equal(result._meta?.['x402/payment-response']?.success, true, `${what}: receipt`);
    return result.structuredContent ?? JSON.parse(result.content[0].text);
  }

  /** GET /content/<rawKey> (latin1 characters go out as single bytes) with optional headers. */
  function getContent(rawKey, headers = {}) {
    return getPath(`/content/${rawKey}`, headers);
  }

  /** GET path on the server, answered as {status, headers, body}. */
  function getPath(path, headers = {}) {
    return rawRequest('GET', path, headers);
  }

  /** One request with exactly these headers (Host included), answered as {status, headers, body}. */
  function rawRequest(method, target, headers, body = '') {
    return new Promise((resolve, reject) => {
      const request = http.request({ host: server.hostname, port: server.port, method, path: target,
                                     headers: { 'Content-Length': Buffer.byteLength(body), ...headers } },
        (response) => {
          const chunks = [];
          response.on('data', (chunk) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode, headers: response.headers,
                                             body: Buffer.concat(chunks).toString('utf8') }));
        });
      request.on('error', reject);
      request.end(body);
    });
  }

  /** The x402 headers (PAYMENT-SIGNATURE) carrying `payment`. */
  function x402Headers(payment) {
    return new x402HTTPClient(new x402Client()).encodePaymentSignatureHeader(payment);
  }

  /** The PaymentRequired of a 402 answer's PAYMENT-REQUIRED header. */
  function decodedRequired(response) {
    const header = response.headers['payment-required'];
    assert.ok(header, `a PAYMENT-REQUIRED header (status ${response.status}: ${response.body})`);
    return JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  }

  return {
    server, wallet, connect, priceOf, paymentFor, withPayment, paidOk, getContent, getPath, rawRequest, x402Headers, decodedRequired,
    appendPaymentIdentifierToExtensions, generatePaymentId,
  };
}
