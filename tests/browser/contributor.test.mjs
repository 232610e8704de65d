// A trust's contributor signs in, posts a progress update on an action their trust leads, sees
// a bad update refused with the reason beside the form, and signs out. JavaScript is disabled
// in the browsing context (the site must work without it); axe-core checks the sign-in page
// and the signed-in action page in a second context with the same session cookie.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { axeEveryRule } from './session.mjs';
import { greenplan, killOnExit, launchOptions, screenshotDir, startServer, stopServer } from './server.mjs';

const PASSWORD = 'a long test pass phrase';
const EMAIL = 'pat.lead@uhdb.nhs.uk';

let server;
let browser;
let context;
let axeContext;
killOnExit(() => server);

before(async () => {
  server = await startServer((db) => {
    greenplan(db, ['init']);
    greenplan(db, ['user', 'add', EMAIL, '--org', 'RTG', '--role', 'contributor', '--name', 'Pat Lead', '--password-stdin'], PASSWORD);
  });
  browser = await chromium.launch(launchOptions);
  context = await browser.newContext({ javaScriptEnabled: false, baseURL: server.base });
  axeContext = await browser.newContext({ baseURL: server.base });
  fs.mkdirSync(screenshotDir, { recursive: true });
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  server = undefined;
});

async function expectNoViolations(name, pagePath) {
  await axeContext.addCookies(await context.cookies());
  const page = await axeContext.newPage();
  await page.goto(pagePath);
  const results = await axeEveryRule(page).analyze();
  await page.close();
  const summary = results.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`);
  assert.deepEqual(summary, [], `accessibility violations on ${name}`);
}

test('a contributor signs in, posts an update, and signs out', async () => {
  const page = await context.newPage();
  await page.goto('/login');
  await page.screenshot({ path: path.join(screenshotDir, 'login.png'), fullPage: true });
  await expectNoViolations('the sign-in page', '/login');

  // A wrong password is refused with a message that does not say which part was wrong.
  await page.getByLabel('Email address').fill(EMAIL);
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('The email address or password is not right').waitFor();

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/');
  await page.getByRole('link', { name: 'Pat Lead' }).waitFor();

  // DT3 (patient engagement portals) is led by the acute trusts, RTG among them.
  await page.goto('/actions/DT3');
  await page.getByLabel('Status').selectOption('at-risk');
  await page.getByLabel('What has happened since the last update').fill('Portal roll-out paused while the supplier fixes login issues.');
  await page.getByLabel('Evidence link (optional)').fill('ftp://files.example/minutes');
  await page.getByRole('button', { name: 'Post update' }).click();
  await page.getByText('the evidence link must be a web address starting with https://').waitFor();
  assert.equal(
    await page.getByLabel('What has happened since the last update').inputValue(),
    'Portal roll-out paused while the supplier fixes login issues.',
    'what was typed is kept after a refusal',
  );

  await page.getByLabel('Evidence link (optional)').fill('https://joinedupcarederbyshire.co.uk/board-papers');
  await page.getByLabel('Revised delivery date (optional)').fill('Q2 2028/29');
  await page.getByRole('button', { name: 'Post update' }).click();
  await page.waitForURL(/\/actions\/DT3/);
  await page.locator('.update').getByText('Portal roll-out paused while the supplier fixes login issues.').waitFor();
  await page.getByText('Revised delivery: Q2 2028/29').waitFor();
  assert.ok((await page.locator('.update .nhsuk-tag').first().textContent()).includes('At risk'));
  await page.screenshot({ path: path.join(screenshotDir, 'action-signed-in.png'), fullPage: true });
  await expectNoViolations('the signed-in action page', '/actions/DT3');

  // An action led by another organisation offers no form.
  await page.goto('/actions/CT2');
  assert.equal(await page.getByRole('button', { name: 'Post update' }).count(), 0);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  await page.goto('/actions/DT3');
  assert.equal(await page.getByRole('button', { name: 'Post update' }).count(), 0, 'signed out: no form');
  await page.locator('.update').getByText('Portal roll-out paused').waitFor();
});
