// Prints the benchmark table: our results (Google Benchmark JSON) beside the
// Node reference (bench/node/store_bench.mjs JSON), with ratios and targets.
//
//   node report.mjs OURS.json NODE.json MEMORY.json [VERIFY.json [REDIS.json]]
import { readFileSync } from "node:fs";

const [oursFile, nodeFile, memoryFile, verifyFile, redisFile] = process.argv.slice(2);
const ours = JSON.parse(readFileSync(oursFile, "utf8"));
const node = JSON.parse(readFileSync(nodeFile, "utf8"));
const memory = JSON.parse(readFileSync(memoryFile, "utf8"));
const byName = new Map(ours.benchmarks.map((b) => [b.name, b]));
const get = (name) => {
  const b = byName.get(name);
  if (!b) throw new Error(`benchmark ${name} missing from ${oursFile}`);
  return b;
};

const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : n.toFixed(0));
const ratio = (r) => `${r.toFixed(1)}×`;
const verdict = (ok) => (ok ? "met" : "**missed**");

const targets = { set_empty: 10, set_overwrite: 10, set_evict: 10, get_hit: 10, list_all: 5 };
const lines = [];
lines.push(`Machine: ${ours.context.num_cpus} × ${ours.context.mhz_per_cpu} MHz, ${ours.context.host_name}; ` +
  `Node ${node.node}, lru-cache ${node["lru-cache"]}; ${ours.context.date}`);
lines.push("");
lines.push("| operation | API | x402-session ops/s | Node + lru-cache ops/s | ratio | target |");
lines.push("|---|---|--:|--:|--:|---|");
for (const api of ["Store", "Session"]) {
  for (const op of ["set_empty", "set_overwrite", "set_evict", "get_hit", "get_miss", "list_all", "list_keys_only", "list_page_10"]) {
    const name = `${api}/${op}`;
    const mine = get(name).items_per_second;
    const theirs = node.ops_per_second[name];
    const r = mine / theirs;
    const target = api === "Store" && targets[op] ? `≥ ${targets[op]}×: ${verdict(r >= targets[op])}` : "";
    lines.push(`| ${op} | ${api} | ${fmt(mine)} | ${fmt(theirs)} | ${ratio(r)} | ${target} |`);
  }
}

lines.push("");
lines.push("| measure | result | target |");
lines.push("|---|---|---|");
const one = get("Contended/get_hit/real_time/threads:1");
const two = get("Contended/get_hit/real_time/threads:2");
const floor = get("Floor/awaited_call");
lines.push(`| floor: an awaited call that only copies payer and key in and a 32-byte value out | ${fmt(floor.items_per_second)} ops/s (${floor.cpu_time.toFixed(0)} ns) | |`);
lines.push(`| get hit, 1 thread | ${fmt(one.items_per_second)} ops/s, p99 ${one.p99_ns.toFixed(0)} ns | |`);
lines.push(`| get hit, 2 threads on one store | ${fmt(two.items_per_second)} ops/s in all, p99 ${two.p99_ns.toFixed(0)} ns | |`);
lines.push(`| heap per entry beyond payload (${memory.payload_B.toFixed(0)} B payload, ` +
  `${memory.allocations_per_entry.toFixed(2)} allocations) | ${memory.overhead_B.toFixed(0)} B | ≤ 128 B: ${verdict(memory.overhead_B <= 128)} |`);
const plain = get("Resume/plain_strand");
const context = get("Resume/context_strand");
const resumeRatio = plain.items_per_second / context.items_per_second;
lines.push(`| co_await resumption: context strand vs plain strand | ${context.cpu_time.toFixed(0)} ns vs ${plain.cpu_time.toFixed(0)} ns = ${ratio(resumeRatio)} | ≤ 1.2×: ${verdict(resumeRatio <= 1.2)} |`);
const raw = get("Facade/get_hit/InMemoryStore");
for (const path of ["AnyStore", "Session", "get_session"]) {
  const b = get(`Facade/get_hit/${path}`);
  lines.push(`| get hit through ${path} vs InMemoryStore | ${b.cpu_time.toFixed(0)} ns vs ${raw.cpu_time.toFixed(0)} ns = ${ratio(raw.items_per_second / b.items_per_second)} | |`);
}
if (verifyFile) {
  const verify = new Map(JSON.parse(readFileSync(verifyFile, "utf8")).benchmarks.map((b) => [b.name, b]));
  const local = verify.get("Verify/LocalVerifier");
  const crypto = verify.get("Verify/crypto_alone");
  const decoded = verify.get("Verify/decode_header_and_verify");
  const r = local.cpu_time / crypto.cpu_time;
  lines.push(`| offline x402 verification (LocalVerifier) vs crypto alone (EIP-712 Keccak + secp256k1 recovery) | ${(local.cpu_time / 1e3).toFixed(1)} µs vs ${(crypto.cpu_time / 1e3).toFixed(1)} µs = ${ratio(r)} | ≤ 1.3×: ${verdict(r <= 1.3)} |`);
  lines.push(`| the same with the header's base64 + JSON decode | ${(decoded.cpu_time / 1e3).toFixed(1)} µs = ${ratio(decoded.cpu_time / crypto.cpu_time)} of crypto alone | |`);
} else {
  lines.push("| offline x402 verification vs crypto alone | not built (no libsecp256k1 / Crypto++) | ≤ 1.3× |");
}
if (redisFile) {
  for (const run of JSON.parse(readFileSync(redisFile, "utf8"))) {
    for (const op of ["set", "get"]) {
      const mine = run.ours[`${op}_ops_per_second`];
      const theirs = run.redis_benchmark[`${op}_ops_per_second`];
      const r = mine / theirs;
      lines.push(`| RedisStore ${op} vs redis-benchmark ${op.toUpperCase()}, ${run.ours.depth} in flight on one connection | ${fmt(mine)} vs ${fmt(theirs)} ops/s = ${ratio(r)} | ≥ 0.7×: ${verdict(r >= 0.7)} |`);
    }
    if (run.evalsha_usec_per_call !== null && run.get_usec_per_call !== null) {
      lines.push(`| server time per call at ${run.ours.depth} in flight: our Lua script vs a plain GET | ${run.evalsha_usec_per_call} µs vs ${run.get_usec_per_call} µs | |`);
    }
  }
} else {
  lines.push("| Redis store vs redis-benchmark | not built (no hiredis) | ≥ 0.7× |");
}
process.stdout.write(lines.join("\n") + "\n");
