#!/usr/bin/env node
// Makes FRESH x402 payments with the official client libraries and writes the
// interop cases the C++ checker (interop_check.cpp) judges:
//
//   node make_payments.mjs OUT.json
//
// v1: the legacy `x402` client (createPaymentHeader); v2: `@x402/core`
// x402Client + x402HTTPClient with `@x402/evm` registerExactEvmScheme.
// Keys: the public Hardhat/Anvil development keys #0 (payer) and #1 (a second
// payer, and the attacker). Never use them for anything of value.
//
// Each case records the header as sent, the requirements the server
// advertises, the "now" to verify at, what is expected (valid / reason /
// payer) and how it was made (madeBy, tampering). `officialVerify` is the
// verdict of the OFFICIAL facilitator code (@x402/core x402Facilitator +
// @x402/evm registerExactEvmScheme) over the chain stand-in of
// ../facilitator_double/official.cjs, judged at the same "now".
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const { privateKeyToAccount } = require('viem/accounts');
const { x402Client, x402HTTPClient } = require('@x402/core/client');
const { registerExactEvmScheme } = require('@x402/evm/exact/client');
const { createPaymentHeader } = require('x402/client');
const { createSigner } = require('x402/types');
const { loadOfficial, createOfficialFacilitator } = require(path.join(here, '../facilitator_double/official.cjs'));

const out = process.argv[2];
if (!out) {
  console.error('usage: node make_payments.mjs OUT.json');
  process.exit(2);
}

const versions = {};
for (const name of ['@x402/core', '@x402/evm', 'viem', 'x402'])
  versions[name] = require(path.join(here, 'node_modules', name, 'package.json')).version;

const KEYS = {
  payer: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80', // Hardhat/Anvil #0
  second: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d', // Hardhat/Anvil #1
};
const payer = privateKeyToAccount(KEYS.payer);
const second = privateKeyToAccount(KEYS.second);
const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
const ASSET = '0x036CbD53842c5426634e7929541eC2318f3dCF7e'; // Base Sepolia USDC
const RESOURCE = 'https://agent.example.com/mcp/tools/remember';

const v1Requirements = (overrides = {}) => ({
  scheme: 'exact', network: 'base-sepolia', maxAmountRequired: '1000', resource: RESOURCE,
  description: 'x402-session interop tool', mimeType: 'application/json', payTo: PAY_TO,
  maxTimeoutSeconds: 60, asset: ASSET, extra: { name: 'USDC', version: '2' }, ...overrides,
});
const v2Requirements = (overrides = {}) => ({
  scheme: 'exact', network: 'eip155:84532', amount: '1000', asset: ASSET, payTo: PAY_TO,
  maxTimeoutSeconds: 60, extra: { name: 'USDC', version: '2' }, ...overrides,
});
const v2PaymentRequired = (requirements) => ({
  x402Version: 2, error: 'PAYMENT-SIGNATURE header is required',
  resource: { url: RESOURCE, description: 'x402-session interop tool', mimeType: 'application/json' },
  accepts: [requirements],
});

const decode = (header) => JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
const encode = (payment) => Buffer.from(JSON.stringify(payment), 'utf8').toString('base64');

/** Runs `fn` with Date.now() at unix second `at` (the clients take validAfter/validBefore from it). */
async function signedAt(at, fn) {
  if (at === undefined) return fn();
  const realNow = Date.now;
  Date.now = () => at * 1000;
  try {
    return await fn();
  } finally {
    Date.now = realNow;
  }
}

async function v1Header(key, requirements, at) {
  const signer = await createSigner('base-sepolia', key);
  return signedAt(at, () => createPaymentHeader(signer, 1, requirements));
}

async function v2Header(account, requirements, at) {
  const client = new x402Client();
  registerExactEvmScheme(client, { signer: account });
  const http = new x402HTTPClient(client);
  const payment = await signedAt(at, () => client.createPaymentPayload(v2PaymentRequired(requirements)));
  const headers = http.encodePaymentSignatureHeader(payment);
  return headers['PAYMENT-SIGNATURE'];
}

const now = Math.floor(Date.now() / 1000);
const verifyAt = now + 2;
const cases = [];
const add = (c) => cases.push({ verifyAt, tampering: null, replayOf: null, ...c });

for (const version of [1, 2]) {
  const v = `v${version}`;
  const headerName = version === 1 ? 'X-PAYMENT' : 'PAYMENT-SIGNATURE';
  const advertised = version === 1 ? v1Requirements() : v2Requirements();
  const madeBy = version === 1
    ? `x402@${versions.x402} createPaymentHeader`
    : `@x402/core@${versions['@x402/core']} x402HTTPClient + @x402/evm@${versions['@x402/evm']} registerExactEvmScheme`;
  const sign = (who, requirements, at) => (version === 1
    ? v1Header(who === payer ? KEYS.payer : KEYS.second, requirements, at)
    : v2Header(who, requirements, at));
  const underpaidRequirements = version === 1 ? v1Requirements({ maxAmountRequired: '999' }) : v2Requirements({ amount: '999' });
  const wrongRecipientRequirements = version === 1 ? v1Requirements({ payTo: second.address }) : v2Requirements({ payTo: second.address });
  // v2 only: a payment made for other requirements carries them in `accepted`;
  // reset it to the advertised one so the verifier, not requirement matching, decides.
  const resetAccepted = (header) => {
    if (version === 1) return header;
    const payment = decode(header);
    payment.accepted = advertised;
    return encode(payment);
  };

  const valid = await sign(payer, advertised);
  add({ id: `${v}-valid`, headerName, headerValue: valid, requirements: advertised, madeBy,
    expected: { valid: true, reason: null, payer: payer.address } });

  add({ id: `${v}-valid-second-key`, headerName, headerValue: await sign(second, advertised), requirements: advertised, madeBy,
    expected: { valid: true, reason: null, payer: second.address } });

  const tampered = decode(valid);
  tampered.payload.authorization.value = '1000000';
  add({ id: `${v}-tampered`, headerName, headerValue: encode(tampered), requirements: advertised, madeBy,
    tampering: 'authorization.value changed to 1000000 after signing',
    expected: { valid: false, reason: 'invalid_exact_evm_signature', payer: payer.address } });

  const signedAtPast = now - 3600;
  add({ id: `${v}-expired`, headerName, headerValue: await sign(payer, advertised, signedAtPast), requirements: advertised,
    madeBy: `${madeBy}, clock at now - 3600 while signing`,
    expected: { valid: false, reason: 'invalid_exact_evm_payload_authorization_valid_before', payer: payer.address } });

  add({ id: `${v}-wrong-recipient`, headerName, headerValue: resetAccepted(await sign(payer, wrongRecipientRequirements)),
    requirements: advertised, madeBy: `${madeBy}, for requirements with payTo = key #1`,
    tampering: version === 2 ? 'accepted reset to the advertised requirements' : null,
    expected: { valid: false, reason: 'invalid_exact_evm_recipient_mismatch', payer: payer.address } });

  add({ id: `${v}-underpaid`, headerName, headerValue: resetAccepted(await sign(payer, underpaidRequirements)),
    requirements: advertised, madeBy: `${madeBy}, for requirements with amount 999`,
    tampering: version === 2 ? 'accepted reset to the advertised requirements' : null,
    expected: { valid: false,
      reason: version === 1 ? 'invalid_exact_evm_authorization_value' : 'invalid_exact_evm_payload_authorization_value_mismatch',
      payer: payer.address } });

  const impersonated = decode(await sign(second, advertised));
  impersonated.payload.authorization.from = payer.address;
  add({ id: `${v}-impersonated`, headerName, headerValue: encode(impersonated), requirements: advertised,
    madeBy: `${madeBy}, signed with key #1`, tampering: 'authorization.from set to key #0 (the victim)',
    expected: { valid: false, reason: 'invalid_exact_evm_signature', payer: payer.address } });

  // The same header again: each verify alone says valid (verification is
  // stateless); the hook's replay guard must refuse the second use.
  add({ id: `${v}-replayed`, headerName, headerValue: valid, requirements: advertised, madeBy,
    replayOf: `${v}-valid`, tampering: 'none: the exact header of the valid case, sent again',
    expected: { valid: true, reason: null, payer: payer.address } });
}

// The official facilitator's verdict on each case (replays judged alone, as verify is stateless).
const facilitator = createOfficialFacilitator(loadOfficial(here));
for (const c of cases) {
  const payment = decode(c.headerValue);
  const answer = await facilitator.verify(payment, c.requirements, c.verifyAt);
  c.officialVerify = { isValid: answer.isValid, invalidReason: answer.invalidReason ?? null, payer: answer.payer ?? null };
  const agrees = answer.isValid === c.expected.valid && (answer.invalidReason ?? null) === c.expected.reason;
  if (!agrees) {
    console.error(`make_payments: ${c.id}: the official facilitator says ${JSON.stringify(c.officialVerify)}, expected ${JSON.stringify(c.expected)}`);
    process.exitCode = 1;
  }
}

const file = {
  about: 'Fresh x402 payments made by the official client libraries at test time (tests/payment/interop/make_payments.mjs); ' +
    'judged by interop_check.cpp with LocalVerifier and the PaymentHook. Keys are the public Hardhat/Anvil development keys.',
  generatedAt: now,
  versions,
  parties: { payer: payer.address, second: second.address, payTo: PAY_TO, asset: ASSET },
  cases,
};
fs.writeFileSync(out, `${JSON.stringify(file, null, 1)}\n`);
console.log(`make_payments: ${cases.length} cases written to ${out}`);
