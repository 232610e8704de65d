// The soak driver: a realistic mix against one or more greenplan servers for a set time.
//
//   node bench/soak.mjs --servers http://127.0.0.1:8081,http://127.0.0.1:8082 \
//        --pids 1234,1235 --seconds 600 --run soak-RUN --users users.txt
//
// Anonymous readers walk the dashboard, the actions and metrics pages; signed-in
// contributors post action updates and metric values; an importer uploads a small return
// now and then. Requests go to the servers in turn. Every write carries a note `RUN-…`, so
// soak.sh can count what is stored against what was acknowledged here. Prints one JSON
// summary on stdout: per kind of request the count, errors, throughput, p50/p99 latency;
// writes sent and acknowledged; and each server's RSS sampled every 5 seconds.
// Node 20+, no packages: fetch is undici's.
import { readFileSync } from 'node:fs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const servers = arg('servers').split(',');
const pids = (arg('pids', '') || '').split(',').filter(Boolean);
const seconds = Number(arg('seconds', '600'));
const run = arg('run', `soak-${Date.now()}`);
const readers = Number(arg('readers', '8'));
const importEvery = Number(arg('import-every', '30')) * 1000;
// One contributor per line: email,organisation,password
const users = readFileSync(arg('users'), 'utf8').trim().split('\n').map((l) => {
  const [email, org, password] = l.split(',');
  return { email, org, password };
});

const stats = new Map(); // kind → { ok, errors, times: [] }
const writes = { updates: { sent: 0, acked: 0 }, values: { sent: 0, acked: 0 }, imports: { sent: 0, acked: 0 } };
const failures = [];
let next = 0;
const server = () => servers[next++ % servers.length];
const deadline = Date.now() + seconds * 1000;

function record(kind, ms, ok, detail) {
  let s = stats.get(kind);
  if (!s) stats.set(kind, (s = { ok: 0, errors: 0, times: [] }));
  s.times.push(ms);
  if (ok) s.ok++;
  else {
    s.errors++;
    if (failures.length < 20) failures.push(`${kind}: ${detail}`);
  }
}

async function timed(kind, url, init, expect) {
  const start = performance.now();
  try {
    const r = await fetch(url, { redirect: 'manual', ...init });
    const body = await r.text();
    const ok = expect.includes(r.status);
    record(kind, performance.now() - start, ok, `${r.status} ${url} ${body.slice(0, 200)}`);
    return ok ? { status: r.status, body, headers: r.headers } : null;
  } catch (e) {
    record(kind, performance.now() - start, false, `${url}: ${e.cause?.code ?? e.message}`);
    return null;
  }
}

const form = (fields) => new URLSearchParams(fields).toString();
const csrfOf = (html) => /name="csrf_token" value="([^"]+)"/.exec(html)?.[1];

async function signIn(user, base) {
  const r = await fetch(`${base}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: base },
    body: form({ email: user.email, password: user.password }),
  });
  await r.text();
  if (r.status !== 303) throw new Error(`sign-in of ${user.email}: ${r.status}`);
  const cookie = r.headers.get('set-cookie').split(';')[0];
  const page = await (await fetch(`${base}/account`, { headers: { cookie } })).text();
  return { cookie, csrf: csrfOf(page) };
}

async function reader(actions, metrics) {
  const pages = ['/', '/actions', '/metrics'];
  let i = 0;
  while (Date.now() < deadline) {
    const p = i % 5 < 3 ? pages[i % 3] : i % 5 === 3
      ? `/actions/${actions[i % actions.length]}` : `/metrics/${metrics[i % metrics.length]}`;
    const kind = p === '/' ? 'read dashboard' : p.startsWith('/actions') ? 'read actions' : 'read metrics';
    await timed(kind, server() + p, {}, [200]);
    i++;
  }
}

async function contributor(user, actions, metric, n) {
  const sessions = new Map();
  for (const base of servers) sessions.set(base, await signIn(user, base));
  let i = 0;
  while (Date.now() < deadline) {
    const base = server();
    const { cookie, csrf } = sessions.get(base);
    const headers = { cookie, origin: base, 'content-type': 'application/x-www-form-urlencoded' };
    const note = `${run}-${n}-${i}`;
    if (i % 2 === 0) {
      writes.updates.sent++;
      const r = await timed('post action update', `${base}/actions/${actions[i % actions.length]}/updates`,
        { method: 'POST', headers, body: form({ csrf_token: csrf, status: 'on-track', note }) }, [303]);
      if (r) writes.updates.acked++;
    } else {
      writes.values.sent++;
      const organisation = user.org === 'QJ2' ? 'system' : user.org;
      const r = await timed('post metric value', `${base}/metrics/${metric}/values`,
        { method: 'POST', headers, body: form({ csrf_token: csrf, organisation, period: `2025-${String(4 + (i % 9)).padStart(2, '0')}`, value: `${i}.5`, note }) }, [303]);
      if (r) writes.values.acked++;
    }
    i++;
    await new Promise((res) => setTimeout(res, 50)); // a person, not a script: a pause between posts
  }
}

async function importer(user) {
  let i = 0;
  while (Date.now() + importEvery < deadline) {
    await new Promise((res) => setTimeout(res, importEvery));
    const base = server();
    const { cookie, csrf } = await signIn(user, base);
    const rows = ['organisation,site,period_start,period_end,activity,quantity,unit,notes'];
    for (let r = 0; r < 500; r++) rows.push(`${user.org},Site ${r % 7},2025-04-01,2025-04-30,widget,${r}.${i},count,${run}`);
    const data = new FormData();
    data.set('csrf_token', csrf);
    data.set('file', new Blob([rows.join('\n') + '\n'], { type: 'text/csv' }), `${run}-import-${i}.csv`);
    writes.imports.sent++;
    const preview = await timed('import preview', `${base}/returns/preview`,
      { method: 'POST', headers: { cookie, origin: base }, body: data }, [200]);
    const upload = preview && /name="upload" value="([^"]+)"/.exec(preview.body)?.[1];
    if (upload) {
      const done = await timed('import confirm', `${base}/returns/confirm`, {
        method: 'POST',
        headers: { cookie, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ csrf_token: csrf, upload }),
      }, [200]);
      if (done && done.body.includes('rows imported')) writes.imports.acked++;
    }
    i++;
  }
}

function rss(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch { return null; }
}

const samples = pids.map(() => []);
const sampler = setInterval(() => pids.forEach((p, i) => samples[i].push(rss(p))), 5000);
pids.forEach((p, i) => samples[i].push(rss(p)));

const base = servers[0];
const actionList = await (await fetch(`${base}/api/v1/actions`)).json();
const metricList = await (await fetch(`${base}/api/v1/metrics`)).json();
const systemMetric = metricList.find((m) => m.organisation === null).id;
const ledBy = (org) => actionList
  .filter((a) => (a.lead_organisations.length === 0 ? org === 'QJ2' : a.lead_organisations.includes(org)))
  .map((a) => a.id);
const started = Date.now();
const tasks = [];
for (let r = 0; r < readers; r++) tasks.push(reader(actionList.map((a) => a.id), metricList.map((m) => m.id)));
users.forEach((u, n) => {
  const own = ledBy(u.org);
  if (own.length === 0) throw new Error(`no action is led by ${u.org}`);
  tasks.push(contributor(u, own, systemMetric, n));
});
tasks.push(importer(users[0]));
await Promise.all(tasks);
clearInterval(sampler);
pids.forEach((p, i) => samples[i].push(rss(p)));
const elapsed = (Date.now() - started) / 1000;

const pct = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const kinds = {};
for (const [kind, s] of [...stats].sort()) {
  const t = s.times.sort((a, b) => a - b);
  kinds[kind] = {
    requests: t.length, errors: s.errors, per_second: +(t.length / elapsed).toFixed(1),
    p50_ms: +pct(t, 0.5).toFixed(1), p99_ms: +pct(t, 0.99).toFixed(1),
  };
}
const memory = pids.map((p, i) => {
  const kb = samples[i].filter((x) => x !== null);
  const at = (q) => +(kb[Math.floor(q * (kb.length - 1))] / 1024).toFixed(1);
  // Start, quarters and end: flat memory plateaus after warming up, a leak keeps climbing.
  return { pid: Number(p), start_mb: at(0), quarter_mb: at(0.25), half_mb: at(0.5), three_quarters_mb: at(0.75), end_mb: at(1), max_mb: +(Math.max(...kb) / 1024).toFixed(1), samples: kb.length };
});
const total = [...stats.values()].reduce((n, s) => n + s.times.length, 0);
console.log(JSON.stringify({
  run, servers: servers.length, seconds: +elapsed.toFixed(0), requests: total,
  per_second: +(total / elapsed).toFixed(1),
  errors: [...stats.values()].reduce((n, s) => n + s.errors, 0), failures, writes, kinds, memory,
}, null, 2));
