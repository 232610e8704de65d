// The workforce, digital, primary care and adaptation registers in a real Chromium with
// JavaScript off, on the built-in plan with its example registers: the ICB's workforce lead
// adds a 'lunch and learn' session and corrects it, and sees the plan's attendance figure
// follow; a trust's digital lead imports a devices file with a bad row, sees the row, the
// column and the fix, then imports the corrected file; the ICB adds a GP practice that joins
// the Greener Practice Network; a trust's EPRR lead adds a climate risk and finds it on the
// heat-map, and the ICB cannot edit it. axe-core checks the list, add, import and heat-map
// pages.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { greenplan, killOnExit, launchOptions, screenshotDir, startServer, stopServer } from './server.mjs';
import { PASSWORD, expectNoViolations as axeCheck, signIn } from './session.mjs';

const ICB = 'workforce.lead@derbyshire.nhs.uk';
const TRUST = 'eprr.lead@uhdb.nhs.uk';

let server;
let browser;
let icb;
let trust;
let axeContext;
let files;
killOnExit(() => server);

before(async () => {
  server = await startServer((db) => {
    greenplan(db, ['init']);
    greenplan(db, ['user', 'add', ICB, '--org', 'QJ2', '--role', 'contributor', '--name', 'Wren Lead', '--password-stdin'], PASSWORD);
    greenplan(db, ['user', 'add', TRUST, '--org', 'RTG', '--role', 'contributor', '--name', 'Eli Planner', '--password-stdin'], PASSWORD);
  });
  browser = await chromium.launch(launchOptions);
  icb = await browser.newContext({ javaScriptEnabled: false, baseURL: server.base });
  trust = await browser.newContext({ javaScriptEnabled: false, baseURL: server.base });
  axeContext = await browser.newContext({ baseURL: server.base });
  files = fs.mkdtempSync(path.join(os.tmpdir(), 'greenplan-registers2-'));
  fs.mkdirSync(screenshotDir, { recursive: true });
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  server = undefined;
  if (files) fs.rmSync(files, { recursive: true, force: true });
});

/** axe-core on a page as `context`'s person sees it. */
function expectNoViolations(context, name, pagePath) {
  return axeCheck(axeContext, context, name, pagePath);
}

function file(name, contents) {
  const p = path.join(files, name);
  fs.writeFileSync(p, contents);
  return p;
}

/** The value of the first metrics-table row naming `label` and `period` (a year's row comes
 * before its quarters'). */
async function figureValue(page, label, period) {
  const row = page.locator('table').filter({ hasText: 'Figures worked out from the records' })
    .locator('tr', { hasText: label }).filter({ hasText: period }).first();
  return (await row.locator('td').nth(2).textContent()).trim();
}

test('workforce: a lunch and learn session is added and corrected, and the plan figure follows', async () => {
  const page = await signIn(icb, ICB);
  await page.goto('/registers');
  await page.getByRole('link', { name: 'Workforce: training sessions' }).click();
  await page.getByRole('heading', { name: 'Workforce: training sessions' }).waitFor();
  await expectNoViolations(icb, 'register-training-sessions', '/registers/training-sessions');

  await page.getByRole('link', { name: 'Add a record' }).click();
  await expectNoViolations(icb, 'register-training-sessions-add', '/registers/training-sessions/new');
  await page.getByLabel('Organisation').selectOption('QJ2');
  await page.getByLabel('Date').fill('2026-05-12');
  await page.getByLabel('Kind of training').selectOption({ label: 'Lunch and learn' });
  await page.getByLabel('Title').fill('Greener NHS in primary care');
  await page.getByLabel('Staff attending live').fill('24');
  await page.getByLabel(/Watches after the event/).fill('61');
  await page.getByRole('button', { name: 'Add the record' }).click();
  await page.waitForURL(/\/registers\/training-sessions$/);
  // The only session of 2026/27: 24 staff live.
  assert.equal(await figureValue(page, "Staff attending live 'lunch and learn' sessions", '2026/27'), '24 people');

  // Corrected: 29 attended.
  await page.locator('tr', { hasText: 'Greener NHS in primary care' }).getByRole('link', { name: /Edit/ }).click();
  await page.getByLabel('Staff attending live').fill('29');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL(/\/registers\/training-sessions$/);
  assert.equal(await figureValue(page, "Staff attending live 'lunch and learn' sessions", '2026/27'), '29 people');

  // The plan's metric shows the register's value.
  await page.goto('/metrics/lunch-and-learn-live-attendance');
  await page.getByText('29').first().waitFor();
});

test('digital: a devices file with a bad row is refused whole, then imported', async () => {
  const page = await signIn(trust, TRUST);
  await page.goto('/registers/digital-devices/import');
  await expectNoViolations(trust, 'register-digital-devices-import', '/registers/digital-devices/import');
  const header = 'organisation,period_start,period_end,repurposed,recycled,disposed\n';
  const good = 'RTG,2026-04-01,2026-06-30,90,40,10\n';
  await page.getByLabel('Register file').setInputFiles(file('devices.csv', header + good + 'RTG,2026-07-01,2026-09-30,lots,12,3\n'));
  await page.getByRole('button', { name: 'Import the file' }).click();
  const problem = page.locator('.nhsuk-error-summary');
  const row = problem.locator('tbody tr').first();
  await row.waitFor();
  assert.equal((await row.locator('td').nth(0).textContent()).trim(), '3', 'the bad row is the file\'s third line');
  assert.equal((await row.locator('td').nth(1).textContent()).trim(), 'repurposed');
  assert.match(await row.locator('td').nth(2).textContent(), /lots/);
  await page.screenshot({ path: path.join(screenshotDir, 'register-devices-row-error.png'), fullPage: true });

  await page.getByLabel('Register file').setInputFiles(file('devices-fixed.csv', header + good + 'RTG,2026-07-01,2026-09-30,60,12,3\n'));
  await page.getByRole('button', { name: 'Import the file' }).click();
  await page.getByRole('heading', { name: 'Imported' }).waitFor();
  await page.goto('/registers/digital-devices?organisation=RTG');
  // 2026/27: 150 repurposed of 215 devices = 69.77% → 69.8%.
  assert.equal(await figureValue(page, 'Old devices repurposed', '2026/27'), '69.8%');
});

test('primary care: a practice joins the Greener Practice Network', async () => {
  const page = await signIn(icb, ICB);
  await page.goto('/registers/gp-practices/new');
  await expectNoViolations(icb, 'register-gp-practices-add', '/registers/gp-practices/new');
  await page.getByLabel('Organisation').selectOption('QJ2');
  await page.getByLabel('Practice code').fill('C81020');
  await page.getByLabel('Practice name').fill('Hathersage Surgery');
  await page.getByLabel('Place').fill('Derbyshire Dales');
  await page.getByLabel('List size').fill('4100');
  await page.getByLabel('Surgeries').fill('1');
  await page.getByLabel(/Joined the Greener Practice Network/).fill('2026-07-01');
  await page.getByRole('button', { name: 'Add the record' }).click();
  await page.waitForURL(/\/registers\/gp-practices$/);
  // The shipped register has 9 members by the end of 2026/27 (8 at the 2025/26 baseline); now 10.
  assert.equal(await figureValue(page, 'Practices in the Greener Practice Network', '2026/27'), '10 count');
  await expectNoViolations(icb, 'register-gp-practices', '/registers/gp-practices');
});

test('adaptation: a climate risk reaches the heat-map, and another organisation cannot edit it', async () => {
  const page = await signIn(trust, TRUST);
  await page.goto('/registers/climate-risks/new');
  await page.getByLabel('Organisation').selectOption('RTG');
  await page.getByLabel('Site').fill('Royal Derby Hospital');
  await page.getByLabel('Service').fill('Renal dialysis');
  await page.getByLabel('Hazard').selectOption({ label: 'Storm' });
  await page.getByLabel('Risk', { exact: true }).fill('Power cut stops dialysis machines');
  await page.getByLabel('Likelihood').fill('6');
  await page.getByLabel('Impact').fill('5');
  await page.getByLabel('Owner').fill('Head of EPRR');
  await page.getByLabel('Review date').fill('2027-03-31');
  await page.getByRole('button', { name: 'Add the record' }).click();
  // Off the scale: the form comes back with the fix.
  await page.locator('.nhsuk-error-summary').getByText(/Likelihood: 6 is not on the scale/).waitFor();
  await page.getByLabel('Likelihood').fill('5');
  await page.getByRole('button', { name: 'Add the record' }).click();
  await page.waitForURL(/\/registers\/climate-risks$/);

  await page.getByRole('link', { name: 'Heat-map of risks by site and hazard' }).click();
  await page.getByRole('heading', { name: 'Climate risks by site and hazard' }).waitFor();
  const derby = page.locator('table.heat-map tr', { hasText: 'Royal Derby Hospital' });
  // Columns: site, flooding, heatwave, cold, storm…: storm now 5 × 5 = 25, extreme.
  assert.equal((await derby.locator('td').nth(3).textContent()).trim(), '25 Extreme');
  assert.match(await derby.locator('td').nth(1).textContent(), /16 Extreme/);
  await expectNoViolations(trust, 'register-climate-heat-map', '/registers/climate-risks/heat-map');

  // The ICB's contributor sees UHDB's risks but has no edit link, and a forged edit is refused.
  const other = await signIn(icb, ICB);
  await other.goto('/registers/climate-risks?q=dialysis');
  const row = other.locator('tr', { hasText: 'Power cut stops dialysis machines' });
  await row.waitFor();
  assert.equal(await row.getByRole('link', { name: /Edit/ }).count(), 0);
  const editLink = await page.goto('/registers/climate-risks?q=dialysis').then(() =>
    page.locator('tr', { hasText: 'Power cut stops dialysis machines' }).getByRole('link', { name: /Edit/ }).getAttribute('href'));
  const refused = await other.goto(editLink);
  assert.equal(refused.status(), 403);
});
