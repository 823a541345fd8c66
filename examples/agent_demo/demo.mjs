// The agent demo: the official MCP client (@modelcontextprotocol/sdk) and the
// official x402 client libraries (@x402/core + @x402/evm, signing with viem)
// pay the x402-session agent server (examples/agent_server.cpp) for its tools.
//
//   node demo.mjs http://127.0.0.1:PORT/mcp
//
// The server must run with offline verification on a test network
// (agent-server --serve --verifier offline --network eip155:84532). Every step
// is checked; the first failed check ends it with exit status 1. It walks the
// eight end-to-end cases of the original template (typescript-original.md
// §3.3), then payer isolation between two wallets and a replayed payment.
// Also the interop test of CI (tests/mcp/interop/run.sh).
//
// The keys are the PUBLIC Hardhat/Anvil development keys #0 and #1: anyone
// can sign with them. Never send real funds to their addresses.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { x402Client } from "@x402/core/client";
import { registerExactEvmScheme } from "@x402/evm/exact/client";
import { privateKeyToAccount } from "viem/accounts";

const url = new URL(process.argv[2] ?? "http://127.0.0.1:8402/mcp");

const DEV_KEYS = {
    alice: "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", // Hardhat/Anvil #0
    bob: "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d", // Hardhat/Anvil #1
};

/** A payer: a viem account and an official x402 client that signs with it. */
function wallet(name, key) {
    const account = privateKeyToAccount(key);
    const payments = new x402Client();
    registerExactEvmScheme(payments, { signer: account });
    return { name, account, payments, label: `${name} (${account.address.slice(0, 10)}...)` };
}
const alice = wallet("alice", DEV_KEYS.alice);
const bob = wallet("bob", DEV_KEYS.bob);
assert.equal(alice.account.address, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
assert.equal(bob.account.address, "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");

let steps = 0;
function log(line) {
    steps += 1;
    console.log(line);
}

function structured(result) {
    if (result.structuredContent) return result.structuredContent;
    return JSON.parse(result.content[0].text);
}

function usd(atomic) {
    return `$${(Number(atomic) / 1e6).toFixed(3)}`;
}

/**
 * Calls a paid tool the way an x402 MCP client does: first unpaid, which the
 * server refuses with its PaymentRequired; then with the payment the official
 * x402 client makes for it, in params._meta["x402/payment"]. Returns the
 * tool's answer, the payment and the receipt.
 */
async function paidCall(session, name, args) {
    const first = await session.client.callTool({ name, arguments: args });
    assert.equal(first.isError, true, `${name} without payment is refused`);
    const required = first.structuredContent;
    assert.equal(required.x402Version, 2);
    assert.equal(required.error, "payment_required");
    const payment = await session.wallet.payments.createPaymentPayload(required);
    const paid = await session.client.callTool({ name, arguments: args, _meta: { "x402/payment": payment } });
    assert.notEqual(paid.isError, true, `${name} paid: ${JSON.stringify(paid)}`);
    const receipt = paid._meta?.["x402/payment-response"];
    assert.ok(receipt, "the settlement receipt is attached");
    assert.equal(receipt.success, true);
    assert.equal(receipt.payer.toLowerCase(), session.wallet.account.address.toLowerCase());
    return { answer: structured(paid), payment, receipt };
}

async function connect(who) {
    const client = new Client({ name: `x402-session-agent-demo-${who.name}`, version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(url);
    await client.connect(transport);
    return { client, transport, wallet: who };
}

console.log(`agent demo: ${url}`);
console.log(`payers: ${alice.label} and ${bob.label} (public dev keys, test network only)`);
const a = await connect(alice);
assert.ok(a.transport.sessionId, "the server issued an Mcp-Session-Id");

// 1. listTools includes put-content and get-content
const { tools } = await a.client.listTools();
const names = tools.map((tool) => tool.name);
assert.ok(names.includes("put-content") && names.includes("get-content"));
log(`1 tools/list: ${names.join(", ")}`);

// 2. put-content without payment is refused with the payment requirements
const unpaid = await a.client.callTool({ name: "put-content", arguments: { key: "color", value: "blue" } });
assert.equal(unpaid.isError, true);
const price = unpaid.structuredContent.accepts[0];
assert.equal(price.amount, "10000");
assert.deepEqual(JSON.parse(unpaid.content[0].text), unpaid.structuredContent);
log(`2 unpaid put-content refused: ${unpaid.structuredContent.error}; pay ${usd(price.amount)} USDC ` +
    `(${price.amount} units of ${price.asset.slice(0, 10)}...) on ${price.network} to ${price.payTo.slice(0, 10)}...`);

// 3. put-content stores a value with payment
const put = await paidCall(a, "put-content", { key: "color", value: "blue" });
assert.equal(put.answer.success, true);
assert.equal(put.answer.key, "color");
log(`3 ${alice.name} pays, put color=blue: ${JSON.stringify(put.answer)}; receipt for ${put.receipt.network}`);

// 4. get-content retrieves the value stored in the previous request
const got = await paidCall(a, "get-content", { key: "color" });
assert.equal(got.answer.value, "blue");
log(`4 ${alice.name} pays, get color: "${got.answer.value}"`);

// 5. multiple values persist and can be listed
await paidCall(a, "put-content", { key: "food", value: "pizza" });
await paidCall(a, "put-content", { key: "city", value: "Lisbon" });
const listed = await paidCall(a, "get-content", {});
assert.equal(listed.answer.success, true);
assert.deepEqual(listed.answer.content, { color: "blue", food: "pizza", city: "Lisbon" });
assert.equal(listed.answer.count, 3);
log(`5 ${alice.name} puts food, city; list: ${JSON.stringify(listed.answer.content)} (count ${listed.answer.count})`);

// 6. get-content for a missing key is an error naming it
const missing = await paidCall(a, "get-content", { key: "nonexistent" });
assert.equal(missing.answer.success, false);
assert.match(missing.answer.error, /nonexistent/);
log(`6 get nonexistent: ${missing.answer.error}`);

// 7. setting a value to null deletes the key
const deleted = await paidCall(a, "put-content", { key: "food", value: null });
assert.equal(deleted.answer.deleted, true);
const afterDelete = await paidCall(a, "get-content", { key: "food" });
assert.equal(afterDelete.answer.success, false);
log(`7 delete food: deleted=${deleted.answer.deleted}; then get food: ${afterDelete.answer.error}`);

// 8. overwriting a key updates the value
await paidCall(a, "put-content", { key: "color", value: "red" });
const overwritten = await paidCall(a, "get-content", { key: "color" });
assert.equal(overwritten.answer.value, "red");
log(`8 overwrite color=red; get color: "${overwritten.answer.value}"`);

// 9. a second payer, on their own connection, sees none of the first payer's data
const b = await connect(bob);
const bobList = await paidCall(b, "get-content", {});
assert.equal(bobList.answer.count, 0);
assert.deepEqual(bobList.answer.content, {});
const bobColor = await paidCall(b, "get-content", { key: "color" });
assert.equal(bobColor.answer.success, false);
await paidCall(b, "put-content", { key: "color", value: "green" });
const aliceColor = await paidCall(a, "get-content", { key: "color" });
assert.equal(aliceColor.answer.value, "red");
log(`9 ${bob.name} pays: list count ${bobList.answer.count}, color: ${bobColor.answer.error}; ` +
    `${bob.name} puts color=green, ${alice.name} still sees "${aliceColor.answer.value}"`);

// 10. a payment is good once: the same payment sent again is refused, and the tool does not run
const replayed = await a.client.callTool({
    name: "put-content",
    arguments: { key: "color", value: "replayed" },
    _meta: { "x402/payment": put.payment },
});
assert.equal(replayed.isError, true);
assert.equal(replayed.structuredContent.error, "invalid_exact_evm_nonce_already_used");
const stillRed = await paidCall(a, "get-content", { key: "color" });
assert.equal(stillRed.answer.value, "red");
log(`10 replay of step 3's payment refused: ${replayed.structuredContent.error}; color is still "${stillRed.answer.value}"`);

// 11. a payment signed by one wallet cannot be used to act as another: bob's
// payment with alice's address as `from` fails the signature check
const forged = structuredClone(bobColor.payment);
forged.payload.authorization.from = alice.account.address;
const refusedForgery = await b.client.callTool({ name: "get-content", arguments: {}, _meta: { "x402/payment": forged } });
assert.equal(refusedForgery.isError, true);
assert.equal(refusedForgery.structuredContent.error, "invalid_exact_evm_signature");
log(`11 ${bob.name}'s payment relabelled as ${alice.name}'s refused: ${refusedForgery.structuredContent.error}`);

// 12. asked for debug logs, a paid call's answer comes as an SSE stream that
// carries the tool's log message first; the payment and the write still count
const logs = [];
a.client.setNotificationHandler(LoggingMessageNotificationSchema, (message) => logs.push(message.params));
await a.client.setLoggingLevel("debug");
const noted = await paidCall(a, "put-content", { key: "note", value: "hi" });
assert.equal(noted.answer.success, true);
assert.deepEqual(logs, [{ level: "debug", logger: "put-content", data: { writing: "note", bytes: 2 } }]);
const note = await paidCall(a, "get-content", { key: "note" });
assert.equal(note.answer.value, "hi");
assert.equal(logs.length, 1, "get-content of one key logs nothing");
log(`12 with debug logs on, put note=hi: log ${JSON.stringify(logs[0].data)}; get note: "${note.answer.value}"`);

// 13. the priced resource content://{key}: an unpaid read is the JSON-RPC error 402 carrying the
// price; paid, it reads the payer's own value, and bob's payment reads bob's
const readPaid = async (session, uri) => {
    let required;
    try {
        await session.client.readResource({ uri });
        assert.fail(`unpaid read of ${uri} was served`);
    } catch (error) {
        assert.equal(error.code, 402, `unpaid read of ${uri}: ${error}`);
        required = error.data;
    }
    assert.equal(required.x402Version, 2);
    const payment = await session.wallet.payments.createPaymentPayload(required);
    const read = await session.client.readResource({ uri, _meta: { "x402/payment": payment } });
    assert.equal(read._meta?.["x402/payment-response"]?.success, true, "the read's receipt is attached");
    return read.contents[0].text;
};
const aliceNote = await readPaid(a, "content://note");
assert.equal(aliceNote, "hi");
const bobColorRead = await readPaid(b, "content://color");
assert.equal(bobColorRead, "green");
log(`13 paid resource reads: ${alice.name} content://note = "${aliceNote}", ${bob.name} content://color = "${bobColorRead}"`);

await a.client.ping();
await a.transport.terminateSession();
await a.client.close();
await b.transport.terminateSession();
await b.client.close();
console.log(`agent demo ok: ${steps} steps, every paid call verified offline (no funds move on a test network)`);
