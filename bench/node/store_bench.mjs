// The JavaScript reference for bench/: the original's InMemorySessionStore
// (aixyz, memory.ts) with its LRU and TTL done by the npm package lru-cache,
// configured like our store (max 10'000, ttl 1 h, updateAgeOnGet), keyed per
// payer as `${payer}:${key}`, with the original's payer index for list.
// Runs the workload of bench/store_bench.cpp and prints JSON: op -> ops/s.
//
//   node store_bench.mjs [--min-time SECONDS]
import { AsyncLocalStorage } from "node:async_hooks";
import { LRUCache } from "lru-cache";

const PAYERS = 100, KEYS = 100, ENTRIES = PAYERS * KEYS;

class LruSessionStore {
  constructor({ maxEntries = 10_000, ttlMs = 3_600_000 } = {}) {
    this.payerIndex = new Map(); // payer -> Set of keys, as the original's list order
    this.cache = new LRUCache({
      max: maxEntries,
      ttl: ttlMs,
      updateAgeOnGet: true,
      dispose: (entry, _ck, reason) => {
        if (reason === "set") return; // an overwrite keeps the key
        const keys = this.payerIndex.get(entry.payer);
        if (!keys) return;
        keys.delete(entry.key);
        if (keys.size === 0) this.payerIndex.delete(entry.payer);
      },
    });
  }
  async get(payer, key) { return this.cache.get(`${payer}:${key}`)?.value; }
  async set(payer, key, value, options) {
    const ttl = options?.ttlMs;
    this.cache.set(`${payer}:${key}`, { payer, key, value }, ttl === undefined ? undefined : { ttl });
    let keys = this.payerIndex.get(payer);
    if (!keys) this.payerIndex.set(payer, (keys = new Set()));
    keys.add(key);
  }
  async delete(payer, key) { return this.cache.delete(`${payer}:${key}`); }
  async list(payer, options) {
    const keys = this.payerIndex.get(payer);
    if (!keys) return { entries: {} };
    const limit = options?.limit > 0 ? options.limit : Infinity;
    const prefix = options?.prefix;
    const entries = {};
    let count = 0, hasMore = false, last;
    for (const key of keys) {
      const entry = this.cache.peek(`${payer}:${key}`); // no recency or TTL change, as the original
      if (!entry) continue;
      if (prefix && !key.startsWith(prefix)) continue;
      if (count >= limit) { hasMore = true; break; }
      entries[key] = options?.keysOnly ? "" : entry.value;
      last = `${payer}:${key}`;
      count++;
    }
    return { entries, cursor: hasMore ? last : undefined };
  }
  async close() { this.cache.clear(); this.payerIndex.clear(); }
}

// The original's session API: AsyncLocalStorage holds the payer's Session.
const storage = new AsyncLocalStorage();
const createSession = (payer, store) => {
  const p = payer.toLowerCase();
  return {
    payer,
    get: (key) => store.get(p, key),
    set: (key, value, options) => store.set(p, key, value, options),
    delete: (key) => store.delete(p, key),
    list: (options) => store.list(p, options),
  };
};
const getSession = () => storage.getStore();

// The workload of bench/workload.hpp, the same strings.
const mask48 = (1n << 48n) - 1n;
const payerName = (i) =>
  "0x" + (((BigInt(i) * 0x9e3779b97f4a7c15n) % mask48) + 1n).toString(16).padStart(40, "0");
const valueFor = (i) => {
  const chars = Array(32).fill("v");
  for (let n = 0; n < 8; n++) chars[n] = String.fromCharCode(97 + (Math.floor(i / 2 ** (n * 3)) % 26));
  return chars.join("");
};
const payers = Array.from({ length: PAYERS }, (_, i) => payerName(i));
const keys = Array.from({ length: KEYS }, (_, j) => `key-${j}`);
const otherKeys = Array.from({ length: KEYS }, (_, j) => `other-${j}`);
const values = Array.from({ length: ENTRIES }, (_, i) => valueFor(i));
const payerOf = (i) => payers[Math.floor(i / KEYS) % PAYERS];
const keyOf = (i) => keys[i % KEYS];
const otherKeyOf = (i) => otherKeys[i % KEYS];
const valueOf = (i) => values[i % ENTRIES];

const makeStore = () => new LruSessionStore({ maxEntries: ENTRIES });
async function fill(store) {
  for (let i = 0; i < ENTRIES; i++) await store.set(payerOf(i), keyOf(i), valueOf(i));
}

let sink = 0;
const ops = {
  set_empty: (s, i) => s.set(payerOf(i), keyOf(i), valueOf(i + 1)),
  set_overwrite: (s, i) => s.set(payerOf(i), keyOf(i), valueOf(i + 1)),
  set_evict: (s, i) => s.set(payerOf(i), Math.floor(i / ENTRIES) % 2 === 0 ? otherKeyOf(i) : keyOf(i), valueOf(i)),
  get_hit: (s, i) => s.get(payerOf(i), keyOf(i)),
  get_miss: (s, i) => s.get(payerOf(i), otherKeyOf(i)),
  list_all: (s, i) => s.list(payerOf(i)),
  list_keys_only: (s, i) => s.list(payerOf(i), { keysOnly: true }),
  list_page_10: (s, i) => s.list(payerOf(i), { limit: 10 }),
};
const sessionOps = {
  set_empty: (i) => getSession().set(keyOf(i), valueOf(i + 1)),
  set_overwrite: (i) => getSession().set(keyOf(i), valueOf(i + 1)),
  set_evict: (i) => getSession().set(Math.floor(i / ENTRIES) % 2 === 0 ? otherKeyOf(i) : keyOf(i), valueOf(i)),
  get_hit: (i) => getSession().get(keyOf(i)),
  get_miss: (i) => getSession().get(otherKeyOf(i)),
  list_all: () => getSession().list(),
  list_keys_only: () => getSession().list({ keysOnly: true }),
  list_page_10: () => getSession().list({ limit: 10 }),
};

// Runs `chunk(first)` (100 operations) until minTime has passed; a fresh,
// untimed store every 10'000 operations for set_empty. Returns ops/s.
async function measure(name, minTime, chunk) {
  const store = makeStore();
  if (name !== "set_empty") await fill(store);
  let done = 0, elapsed = 0n, i = 0;
  const budget = BigInt(Math.round(minTime * 1e9));
  for (let warm = 0; warm < 2; warm++) {
    for (let n = 0; n < ENTRIES; n += KEYS) await chunk(store, n);
  }
  if (name === "set_empty") await store.close();
  while (elapsed < budget) {
    if (name === "set_empty" && i === ENTRIES) { await store.close(); i = 0; }
    const start = process.hrtime.bigint();
    await chunk(store, i);
    elapsed += process.hrtime.bigint() - start;
    done += KEYS;
    i += KEYS;
  }
  return done / (Number(elapsed) / 1e9);
}

const minTimeArg = process.argv.indexOf("--min-time");
const minTime = minTimeArg > 0 ? Number(process.argv[minTimeArg + 1]) : 1;
const results = {};
for (const [name, op] of Object.entries(ops)) {
  results[`Store/${name}`] = await measure(name, minTime, async (store, first) => {
    for (let i = first; i < first + KEYS; i++) {
      const r = await op(store, i);
      if (r !== undefined) sink++;
    }
  });
}
for (const [name, op] of Object.entries(sessionOps)) {
  results[`Session/${name}`] = await measure(name, minTime, (store, first) =>
    storage.run(createSession(payerOf(first), store), async () => {
      for (let i = first; i < first + KEYS; i++) {
        const r = await op(i);
        if (r !== undefined) sink++;
      }
    }));
}
results.sink = sink > 0 ? 1 : 0;
process.stdout.write(JSON.stringify({ node: process.version, "lru-cache": "11.5.3", ops_per_second: results }, null, 2) + "\n");
