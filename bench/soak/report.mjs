// The tables of docs/soak.md from the results of bench/soak/run.sh:
//   node report.mjs WORK/memory.json WORK/redis.json
import { readFileSync } from 'node:fs';
import path from 'node:path';

const files = process.argv.slice(2);
const rows = files.flatMap((file) =>
  JSON.parse(readFileSync(file, 'utf8')).results.map((r) => ({ store: path.basename(file, '.json'), ...r })));
const kinds = (errors) => Object.entries(errors).map(([kind, n]) => `${n} ${kind}`).join('; ') || '0';

console.log('| store | phase | served (per s) | legitimate errors | p50 / p99 / max ms | RSS at warm-up → end (growth) | peak RSS | RSS once idle | fds idle before → max → idle after |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(`| ${r.store} | ${r.phase} | ${r.served} (${r.perSecond}) | ${kinds(r.legit.errorKinds)} | ` +
              `${r.legit.p50ms} / ${r.legit.p99ms} / ${r.legit.maxms} | ${r.rss.atWarmupMB} MB at ${r.rss.warmupS} s → ` +
              `${r.rss.endMB} MB (${r.rss.growthMB >= 0 ? '+' : ''}${r.rss.growthMB}) | ${r.rss.peakMB} MB | ${r.rss.settledMB} MB | ` +
              `${r.fds.idleBefore} → ${r.fds.duringMax} → ${r.fds.idleAfter} |`);

const attacked = rows.filter((r) => r.attacks);
if (attacked.length) {
  console.log('\n| store | lists: served, errors, p50 / max ms | batches of N lists: served, errors, p50 / max ms, answers | slow sockets: opened, closed by the server after (header / body) | initializes: sent, answers |');
  console.log('|---|---|---|---|---|');
  for (const { store, attacks: a } of attacked) {
    const closed = (s) => (s ? `${s.minS.toFixed(1)}–${s.maxS.toFixed(1)} s` : '–');
    console.log(`| ${store} | ${a.lists.ok}, errors: ${kinds(a.lists.errorKinds)}, ${a.lists.p50ms} / ${a.lists.maxms} | ` +
                `N=${a.batches.size}: ${a.batches.ok}, errors: ${kinds(a.batches.errorKinds)}, ${a.batches.p50ms} / ${a.batches.maxms}, ${a.batches.answerMegabytes} MB | ` +
                `${a.slow.opened}; ${closed(a.slow.header)} / ${closed(a.slow.body)}; ${a.slow.overdue} past the deadline + 5 s | ` +
                `${a.initializes.sent}, ${Object.entries(a.initializes.statuses).map(([s, n]) => `${n} × ${s}`).join(', ')} |`);
  }
}
