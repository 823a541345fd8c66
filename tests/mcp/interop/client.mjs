// Interop test: the official MCP TypeScript client (@modelcontextprotocol/sdk,
// StreamableHTTPClientTransport) against the x402-session agent server.
// Walks the eight end-to-end cases of the original template
// (typescript-original.md §3.3) plus isolation between two payers.
//   node client.mjs http://127.0.0.1:PORT/mcp
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = new URL(process.argv[2] ?? "http://127.0.0.1:8402/mcp");

// Two development payers (addresses only; nothing is signed yet).
const alice = { address: "0xA11CE0000000000000000000000000000000A11C" };
const bob = { address: "0xB0B0000000000000000000000000000000000B0B" };

// TODO(x402 wiring): replace this stub with a real payment made by the
// official x402 client libraries (@x402/core + @x402/evm with viem, signing
// with a public development key) from `paymentRequired.accepts[0]`, and run
// the server with its offline verifier instead of the test-double gate. Then
// add the replayed-payment case (the same payment sent twice is refused).
// Today the server under test is agent-server-double, whose test-double gate
// trusts `testPayer`.
async function makePayment(paymentRequired, wallet) {
    assert.ok(Array.isArray(paymentRequired.accepts) && paymentRequired.accepts.length > 0,
        "the payment-required answer lists what to pay");
    return { testPayer: wallet.address };
}

const transcript = [];
function log(line) {
    transcript.push(line);
    console.log(line);
}

function structured(result) {
    if (result.structuredContent) return result.structuredContent;
    return JSON.parse(result.content[0].text);
}

// Calls a paid tool the way an x402 MCP client does: unpaid first, then with
// the payment the server asked for in params._meta["x402/payment"].
async function paidCall(client, wallet, name, args) {
    const first = await client.callTool({ name, arguments: args });
    assert.equal(first.isError, true, `${name} without payment is refused`);
    const required = first.structuredContent;
    assert.equal(required.x402Version, 2);
    const payment = await makePayment(required, wallet);
    const paid = await client.callTool({ name, arguments: args, _meta: { "x402/payment": payment } });
    assert.notEqual(paid.isError, true, `${name} paid: ${JSON.stringify(paid)}`);
    assert.ok(paid._meta && paid._meta["x402/payment-response"], "the settlement receipt is attached");
    return structured(paid);
}

async function connect(name) {
    const client = new Client({ name, version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(url);
    await client.connect(transport);
    return { client, transport };
}

const { client, transport } = await connect("x402-session-interop-alice");
log(`connected: protocol ${transport.protocolVersion ?? "(not reported)"}, session ${transport.sessionId ? "yes" : "no"}`);
assert.ok(transport.sessionId, "the server issued an Mcp-Session-Id");

// 1. listTools includes put-content and get-content
const { tools } = await client.listTools();
const names = tools.map((tool) => tool.name);
assert.ok(names.includes("put-content") && names.includes("get-content"));
log(`1 tools: ${names.join(", ")}`);

// 2. put-content without payment is refused with payment requirements
const unpaid = await client.callTool({ name: "put-content", arguments: { key: "color", value: "blue" } });
assert.equal(unpaid.isError, true);
assert.equal(unpaid.structuredContent.accepts[0].amount, "10000");
assert.deepEqual(JSON.parse(unpaid.content[0].text), unpaid.structuredContent);
log(`2 unpaid put-content refused: ${unpaid.structuredContent.error}, price ${unpaid.structuredContent.accepts[0].amount} on ${unpaid.structuredContent.accepts[0].network}`);

// 3. put-content stores a value with payment
const put = await paidCall(client, alice, "put-content", { key: "color", value: "blue" });
assert.equal(put.success, true);
assert.equal(put.key, "color");
log(`3 paid put color=blue: ${JSON.stringify(put)}`);

// 4. get-content retrieves the value stored in the previous request
const got = await paidCall(client, alice, "get-content", { key: "color" });
assert.equal(got.value, "blue");
log(`4 paid get color: ${got.value}`);

// 5. multiple values persist and can be listed
await paidCall(client, alice, "put-content", { key: "food", value: "pizza" });
await paidCall(client, alice, "put-content", { key: "city", value: "Lisbon" });
const listed = await paidCall(client, alice, "get-content", {});
assert.equal(listed.success, true);
assert.deepEqual({ color: listed.content.color, food: listed.content.food, city: listed.content.city },
    { color: "blue", food: "pizza", city: "Lisbon" });
assert.ok(listed.count >= 3);
log(`5 list: ${JSON.stringify(listed.content)} (count ${listed.count})`);

// 6. get-content for a missing key is an error naming it
const missing = await paidCall(client, alice, "get-content", { key: "nonexistent" });
assert.equal(missing.success, false);
assert.match(missing.error, /nonexistent/);
log(`6 missing key: ${missing.error}`);

// 7. setting a value to null deletes the key
const deleted = await paidCall(client, alice, "put-content", { key: "food", value: null });
assert.equal(deleted.deleted, true);
const afterDelete = await paidCall(client, alice, "get-content", { key: "food" });
assert.equal(afterDelete.success, false);
log(`7 delete food: deleted=${deleted.deleted}, then ${afterDelete.error}`);

// 8. overwriting a key updates the value
await paidCall(client, alice, "put-content", { key: "color", value: "red" });
const overwritten = await paidCall(client, alice, "get-content", { key: "color" });
assert.equal(overwritten.value, "red");
log(`8 overwrite color: ${overwritten.value}`);

// 9. a second payer, on their own connection, sees none of the first payer's data
const second = await connect("x402-session-interop-bob");
const bobList = await paidCall(second.client, bob, "get-content", {});
assert.equal(bobList.count, 0);
assert.deepEqual(bobList.content, {});
const bobColor = await paidCall(second.client, bob, "get-content", { key: "color" });
assert.equal(bobColor.success, false);
log(`9 second payer: count ${bobList.count}, color: ${bobColor.error}`);

// ping and a clean shutdown (DELETE ends the MCP session)
await client.ping();
await transport.terminateSession();
await client.close();
await second.transport.terminateSession();
await second.client.close();
log(`interop ok: ${transcript.length} steps`);
