// The greenplan server for browser tests: a fresh SQLite database in a temporary folder, a free
// port on 127.0.0.1, and a wait until /healthz answers. Shared by every test file.

import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
// A relative GREENPLAN_BIN is taken from the current folder, as a shell would; the default from
// this file's folder.
export const greenplanBin = process.env.GREENPLAN_BIN
  ? path.resolve(process.env.GREENPLAN_BIN)
  : path.resolve(here, '../../target/debug/greenplan');
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const screenshotDir = path.join(repoRoot, 'artifacts', 'screenshots');
export const launchOptions = {
  executablePath: chromiumPath,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
  ],
};

const STARTUP_TIMEOUT_MS = 60_000;

/** Runs a greenplan command against a database before the server starts (e.g. adding users). */
export function greenplan(db, args, input) {
  return execFileSync(greenplanBin, ['--db', db, ...args], { input, stdio: ['pipe', 'pipe', 'pipe'] }).toString();
}

/** A TCP port that is free on 127.0.0.1 right now. */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = /** @type {net.AddressInfo} */ (srv.address());
  srv.close();
  await once(srv, 'close');
  return port;
}

/**
 * Starts `greenplan --db <fresh file> serve` and waits until /healthz answers 200. `setup(db)`
 * runs first, against the empty database (to load users, say).
 */
export async function startServer(setup = () => {}) {
  assert.ok(
    fs.existsSync(greenplanBin),
    `the greenplan binary ${greenplanBin} does not exist: run \`cargo build -p greenplan\` ` +
      'at the repository root first, or set GREENPLAN_BIN',
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'greenplan-browser-'));
  const db = path.join(dir, 'greenplan.db');
  setup(db);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(greenplanBin, ['--db', db, 'serve', '--addr', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GREENPLAN_LOG: process.env.GREENPLAN_LOG || 'warn,greenplan=info' },
  });
  let output = '';
  const keep = (chunk) => {
    output += chunk;
    if (output.length > 20_000) output = output.slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  child.on('error', (e) => {
    // Spawning failed (not executable, …): no 'exit' follows.
    exited = { code: null, signal: null };
    keep(`could not start ${greenplanBin}: ${e.message}\n`);
  });
  const s = { child, base, dir, log: () => output };

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let lastError = 'no answer yet';
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(
        `greenplan exited before it was ready (code ${exited.code}, signal ${exited.signal}). Its output:\n${output}`,
      );
    }
    try {
      const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return s;
      lastError = `/healthz answered ${res.status}`;
    } catch (e) {
      lastError = String(e?.cause?.code || e?.message || e);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `greenplan did not answer 200 on ${base}/healthz within ${STARTUP_TIMEOUT_MS / 1000}s ` +
      `(last: ${lastError}). Its output:\n${output}`,
  );
}

/** Stops the server (SIGTERM, then SIGKILL if it lingers) and removes its database. */
export async function stopServer(s) {
  if (!s) return;
  const { child } = s;
  if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    const gone = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
  fs.rmSync(s.dir, { recursive: true, force: true });
}

// Last resort if a test process ends without its `after` running: never leave a server behind.
export function killOnExit(get) {
  process.on('exit', () => {
    const s = get();
    if (s && s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  });
}
