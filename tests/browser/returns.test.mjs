// A quarter's data return, end to end, in a real Chromium with JavaScript off: the ICB's
// sustainability lead opens Q3 2025/26; a trust's data owner uploads a file with one bad row,
// sees the row and the fix, uploads the corrected file, sees the footprint it adds, confirms,
// and sees the dashboard's footprint change; the lead sees the return as submitted and
// approves it. axe-core checks every page type on the way (admin pages included).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { axeEveryRule } from './session.mjs';
import { greenplan, killOnExit, launchOptions, repoRoot, screenshotDir, startServer, stopServer } from './server.mjs';

const PASSWORD = 'a long test pass phrase';
const OWNER = 'data.owner@uhdb.nhs.uk';
const LEAD = 'sustainability.lead@derbyshire.nhs.uk';
const FACTORS = path.resolve(repoRoot, '../shared/data/ghg-conversion-factors/uk-ghg-conversion-factors-2023-flat-file.xlsx');
const HEADER = 'organisation,site,period_start,period_end,activity,quantity,unit\n';
const GOOD = 'RTG,Royal Derby Hospital,2025-10-01,2025-12-31,natural-gas,100000,kWh\n';

let server;
let browser;
let owner;
let lead;
let axeContext;
let files;
killOnExit(() => server);

before(async () => {
  server = await startServer((db) => {
    greenplan(db, ['init']);
    greenplan(db, ['factors', 'import', FACTORS]);
    greenplan(db, ['user', 'add', OWNER, '--org', 'RTG', '--role', 'contributor', '--name', 'Dana Owner', '--password-stdin'], PASSWORD);
    greenplan(db, ['user', 'add', LEAD, '--org', 'QJ2', '--role', 'system-admin', '--name', 'Lee Lead', '--password-stdin'], PASSWORD);
  });
  browser = await chromium.launch(launchOptions);
  owner = await browser.newContext({ javaScriptEnabled: false, baseURL: server.base });
  lead = await browser.newContext({ javaScriptEnabled: false, baseURL: server.base });
  axeContext = await browser.newContext({ baseURL: server.base });
  files = fs.mkdtempSync(path.join(os.tmpdir(), 'greenplan-returns-'));
  fs.mkdirSync(screenshotDir, { recursive: true });
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  server = undefined;
  if (files) fs.rmSync(files, { recursive: true, force: true });
});

async function signIn(context, email) {
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

/** axe-core on a page, seen with `context`'s session (JavaScript on, as axe needs it). */
async function expectNoViolations(context, name, pagePath) {
  await axeContext.clearCookies();
  await axeContext.addCookies(await context.cookies());
  const page = await axeContext.newPage();
  await page.goto(pagePath);
  const results = await axeEveryRule(page).analyze();
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
  await page.close();
  const summary = results.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`);
  assert.deepEqual(summary, [], `accessibility violations on ${name} (${pagePath})`);
}

function file(name, contents) {
  const p = path.join(files, name);
  fs.writeFileSync(p, contents);
  return p;
}

test('a quarter is opened, a return is fixed, submitted and approved', async () => {
  // The lead opens the quarter.
  const leadPage = await signIn(lead, LEAD);
  await leadPage.goto('/returns/periods');
  await leadPage.getByLabel('Quarter').fill('Q3 2025/26');
  await leadPage.getByLabel('Returns due by').fill('2026-01-31');
  await leadPage.getByRole('button', { name: 'Open the period' }).click();
  await leadPage.waitForURL(/\/returns\/periods\/2025-26-Q3$/);
  await leadPage.getByRole('heading', { name: 'Returns for Q3 2025/26' }).waitFor();

  // The data owner: no footprint yet.
  const page = await signIn(owner, OWNER);
  await page.goto('/');
  await page.getByText('No activity data has been imported yet').waitFor();

  // A file with a bad unit on its third line: the row, the column and the fix are shown,
  // and nothing is stored.
  await page.goto('/returns');
  await page.getByLabel('Reporting period').selectOption('Q3 2025/26');
  await page.getByLabel('Activity data file').setInputFiles(file('rtg-q3.csv', HEADER + GOOD + 'RTG,Royal Derby Hospital,2025-10-01,2025-12-31,natural-gas,5000,furlongs\n'));
  await page.getByRole('button', { name: 'Check the file' }).click();
  const problem = page.locator('.nhsuk-error-summary');
  await problem.getByText('1 row cannot be used, so nothing has been stored').waitFor();
  const row = problem.locator('tbody tr').first();
  assert.equal((await row.locator('td').nth(0).textContent()).trim(), '3', 'the bad row is the file\'s third line');
  assert.equal((await row.locator('td').nth(1).textContent()).trim(), 'unit');
  assert.match(await row.locator('td').nth(2).textContent(), /furlongs/);
  await page.screenshot({ path: path.join(screenshotDir, 'return-row-error.png'), fullPage: true });

  // Fixed: the preview shows what it adds (100,000 kWh of gas at 0.18293 kg/kWh), then it is
  // imported on confirmation as the trust's return for the quarter.
  await page.getByLabel('Reporting period').selectOption('Q3 2025/26');
  await page.getByLabel('Activity data file').setInputFiles(file('rtg-q3-fixed.csv', HEADER + GOOD));
  await page.getByRole('button', { name: 'Check the file' }).click();
  await page.getByText('This file will be your return for Q3 2025/26.').waitFor();
  const total = page.locator('table').filter({ hasText: 'Footprint by organisation' }).locator('tr').last();
  assert.match(await total.textContent(), /18\.293/, 'the preview adds 18.293 tCO2e');
  await page.getByRole('button', { name: 'Confirm and import' }).click();
  await page.getByText('submitted as your return for Q3 2025/26').waitFor();
  await page.goto('/');
  // (The dashboard names organisations by their short names.)
  const trust = page.locator('table').filter({ hasText: 'Carbon footprint by organisation' }).locator('tr', { hasText: 'UHDB' });
  assert.match(await trust.textContent(), /18\.3/, 'the dashboard footprint now includes the return');

  // The lead sees it submitted, the others late, and approves it.
  await leadPage.goto('/returns/periods/2025-26-Q3');
  const standing = leadPage.locator('table').first().locator('tr', { hasText: 'University Hospitals of Derby and Burton' });
  assert.match(await standing.textContent(), /Submitted/);
  await leadPage.getByText('5 organisations are late').waitFor();
  await leadPage.getByRole('button', { name: /Approve University Hospitals of Derby and Burton/ }).click();
  await leadPage.getByText(`Approved by ${LEAD}`).waitFor();
  assert.match(await leadPage.locator('table').first().locator('tr', { hasText: 'University Hospitals of Derby and Burton' }).textContent(), /Approved/);
  await leadPage.screenshot({ path: path.join(screenshotDir, 'return-approved.png'), fullPage: true });

  // The data owner cannot approve: there is no button, and the server refuses the request.
  await page.goto('/returns/periods/2025-26-Q3');
  assert.equal(await page.getByRole('button', { name: /Approve/ }).count(), 0);
});

const ADMIN_PAGES = [
  ['returns', '/returns'],
  ['periods', '/returns/periods'],
  ['period', '/returns/periods/2025-26-Q3'],
  ['admin', '/admin'],
  ['admin-organisations', '/admin/organisations'],
  ['admin-users', '/admin/users'],
  ['edit-action', '/actions/DT3/edit'],
  ['new-action', '/areas/digital-transformation/actions/new'],
  ['edit-area', '/areas/digital-transformation/edit'],
  ['edit-metric', '/metrics/inhaler-carbon/edit'],
  ['my-actions', '/my/actions'],
  ['my-tasks', '/my/tasks'],
  ['admin-reminders', '/admin/reminders'],
  ['account', '/account'],
  ['audit', '/audit'],
];

for (const [name, pagePath] of ADMIN_PAGES) {
  test(`signed-in page ${pagePath} (${name}): no violations of any axe rule, screenshot`, async () => {
    await expectNoViolations(lead, name, pagePath);
  });
}
