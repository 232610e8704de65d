// Registers in a real Chromium with JavaScript off: the shipped example registers reproduce the
// plan's figures; a community trust's estates lead adds a site and edits it and sees the
// estate's LED share move; its fleet lead imports lease cars (a bad row first, named with its
// row and column, then the fixed file); a contract is added to the procurement register and a
// waste return imported, and its carbon shown. axe-core checks the index, list, add and import pages.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { axeEveryRule } from './session.mjs';
import { greenplan, killOnExit, launchOptions, screenshotDir, startServer, stopServer } from './server.mjs';

const PASSWORD = 'a long test pass phrase';
const DCHS = 'estates.lead@dchs.nhs.uk';

let server;
let browser;
let context;
let axeContext;
let files;
killOnExit(() => server);

before(async () => {
  server = await startServer((db) => {
    greenplan(db, ['init']);
    greenplan(db, ['user', 'add', DCHS, '--org', 'RY8', '--role', 'contributor', '--name', 'Sam Estates', '--password-stdin'], PASSWORD);
  });
  browser = await chromium.launch(launchOptions);
  context = await browser.newContext({ javaScriptEnabled: false, baseURL: server.base });
  axeContext = await browser.newContext({ baseURL: server.base });
  files = fs.mkdtempSync(path.join(os.tmpdir(), 'greenplan-registers-'));
  fs.mkdirSync(screenshotDir, { recursive: true });
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  server = undefined;
  if (files) fs.rmSync(files, { recursive: true, force: true });
});

async function signIn(email) {
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

async function expectNoViolations(name, pagePath) {
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

/** The system figure of a measure for a period, as the register page shows it. */
async function figure(page, measure, period) {
  const row = page.locator('table').filter({ hasText: 'Figures worked out' }).locator('tr').filter({ hasText: measure }).filter({ hasText: period });
  return (await row.first().locator('td').nth(2).textContent()).trim();
}

test('the shipped registers reproduce the plan, and the metric page shows it', async () => {
  const page = await context.newPage();
  await page.goto('/');
  await page.getByRole('link', { name: 'Registers' }).first().click();
  await page.getByRole('heading', { name: 'Registers', level: 1 }).waitFor();
  await page.getByRole('link', { name: 'Estates: sites' }).click();
  assert.equal(await figure(page, 'Floor area with LED lighting', '2023/24'), '44.6%');
  assert.equal(await figure(page, 'heat decarbonisation plan in place', '2023/24'), '13%');
  await page.goto('/metrics/estate-led-lighting');
  await page.getByText('From the register "Estates: sites"').first().waitFor();
  await expectNoViolations('registers-index', '/registers');
  await expectNoViolations('register-estates-sites', '/registers/estates-sites');
});

test('an estates lead adds a site, edits it, and the LED share follows', async () => {
  const page = await signIn(DCHS);
  await page.goto('/registers/estates-sites');
  await page.getByRole('link', { name: 'Add a record' }).click();
  await expectNoViolations('register-add', '/registers/estates-sites/new');
  // A blank form names every missing field.
  await page.getByRole('button', { name: 'Add the record' }).click();
  await page.getByText('There is a problem').waitFor();
  await page.getByRole('link', { name: 'Site name is required: fill it in' }).waitFor();

  await page.getByLabel('Organisation').selectOption('RY8');
  await page.getByLabel('Site name').fill('Walton Hospital');
  await page.getByLabel('Type of site').selectOption('community-hospital');
  await page.getByLabel('Financial year').fill('2023/24');
  await page.getByLabel('Gross internal floor area').fill('20000');
  await page.getByLabel('Primary heating').selectOption('gas');
  await page.getByLabel('Heat decarbonisation plan', { exact: true }).selectOption('none');
  await page.getByLabel('LED lighting coverage').fill('0');
  await page.getByLabel('Tenure').selectOption('freehold');
  await page.getByRole('button', { name: 'Add the record' }).click();
  await page.waitForURL(/\/registers\/estates-sites$/);
  // 89,200 m² of LED over 220,000 m² = 40.5%.
  assert.equal(await figure(page, 'Floor area with LED lighting', '2023/24'), '40.5%');

  const row = page.locator('tr').filter({ hasText: 'Walton Hospital' });
  await row.getByRole('link', { name: /Edit/ }).click();
  await page.getByLabel('LED lighting coverage').fill('100');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.waitForURL(/\/registers\/estates-sites$/);
  // 109,200 of 220,000 m² = 49.6%.
  assert.equal(await figure(page, 'Floor area with LED lighting', '2023/24'), '49.6%');
  await page.screenshot({ path: path.join(screenshotDir, 'register-after-edit.png'), fullPage: true });
});

test('a fleet lead imports lease cars: a bad row is named, the fixed file is stored', async () => {
  const page = await signIn(DCHS);
  await page.goto('/registers/fleet-lease-cars/import');
  await expectNoViolations('register-import', '/registers/fleet-lease-cars/import');
  const header = 'organisation,agreement,scheme,start_date,powertrain,gco2_km\n';
  const good = 'RY8,NEW-1,salary-sacrifice,2025-05-01,battery-electric,0\n';
  await page.getByLabel('Register file').setInputFiles(file('lease.csv', header + good + 'RY8,NEW-2,lease,2025-05-02,diesel,lots\n'));
  await page.getByRole('button', { name: 'Import the file' }).click();
  const problem = page.locator('.nhsuk-error-summary');
  await problem.getByText('1 problem found, so nothing has been stored').waitFor();
  const cells = problem.locator('tbody tr').first().locator('td');
  assert.equal((await cells.nth(0).textContent()).trim(), '3');
  assert.equal((await cells.nth(1).textContent()).trim(), 'gco2_km');
  await page.screenshot({ path: path.join(screenshotDir, 'register-import-error.png'), fullPage: true });

  await page.getByLabel('Register file').setInputFiles(file('lease-fixed.csv', header + good));
  await page.getByRole('button', { name: 'Import the file' }).click();
  await page.getByText('1 record imported from lease-fixed.csv').waitFor();
  await page.goto('/registers/fleet-lease-cars?organisation=RY8');
  assert.equal(await figure(page, 'New lease cars fully electric (share)', '2025/26'), '100%');
});

test('a contract is added and a waste return imported', async () => {
  const page = await signIn(DCHS);
  await page.goto('/registers/procurement-contracts/new');
  await page.getByLabel('Organisation').selectOption('RY8');
  await page.getByLabel('Contract', { exact: true }).fill('Community equipment');
  await page.getByLabel('Supplier', { exact: true }).fill('Medequip');
  await page.getByLabel('Category', { exact: true }).selectOption('medical-equipment');
  await page.getByLabel('Annual value').fill('7500000');
  await page.getByLabel('Start', { exact: true }).fill('2026-01-10');
  await page.getByLabel('PPN 06/20 weighting applied').selectOption('yes');
  await page.getByLabel('PPN 06/20 weighting (optional)').fill('10');
  await page.getByLabel('Carbon Reduction Plan received').selectOption('no');
  await page.getByLabel('Sustainability KPIs in the contract').selectOption('yes');
  await page.getByLabel('Evergreen assessment').selectOption('level-1');
  await page.getByRole('button', { name: 'Add the record' }).click();
  await page.waitForURL(/\/registers\/procurement-contracts$/);
  await page.getByRole('cell', { name: 'Community equipment', exact: true }).waitFor();

  await page.goto('/registers/waste-streams/import');
  const csv = 'organisation,period_start,period_end,stream,route,tonnes,transport_miles\nRY8,2025-04-01,2025-06-30,clinical-infectious,alternative-treatment,12.5,340\n';
  await page.getByLabel('Register file').setInputFiles(file('waste.csv', csv));
  await page.getByRole('button', { name: 'Import the file' }).click();
  await page.getByText('1 record imported from waste.csv').waitFor();
  // The waste page works out its carbon; with no factor files loaded, every row is named as
  // not converted, and the estate pipeline says it has no footprint to set itself against.
  await page.goto('/registers/waste-streams?organisation=RY8');
  await page.getByRole('heading', { name: 'Carbon' }).waitFor();
  await page.getByText(/rows the factors could not convert/).waitFor();
  await expectNoViolations('register-waste-carbon', '/registers/waste-streams');
  await page.goto('/registers/estates-pipeline');
  await page.getByRole('heading', { name: 'Against the gap to target' }).waitFor();
  await expectNoViolations('register-estates-pipeline', '/registers/estates-pipeline');
});
