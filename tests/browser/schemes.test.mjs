// The scheme register and the Sustainability Impact Assessment, end to end, in a real Chromium
// with JavaScript off: a trust's contributor adds a scheme, drafts an SIA for it (a negative
// impact without a mitigation is refused with a link to the field), completes and submits it;
// the trust's organisation admin reviews it; the scheme now carries the Greener NHS tag.
// axe-core checks every new page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { axeEveryRule } from './session.mjs';
import { greenplan, killOnExit, launchOptions, screenshotDir, startServer, stopServer } from './server.mjs';
import fs from 'node:fs';

const PASSWORD = 'a long test pass phrase';
const CONTRIBUTOR = 'project.lead@uhdb.nhs.uk';
const REVIEWER = 'sustainability.manager@uhdb.nhs.uk';
const LEAD = 'sustainability.lead@derbyshire.nhs.uk';
const FACETS = [
  'Energy and carbon',
  'Travel and transport',
  'Waste and resources',
  'Air quality',
  'Social value and inequalities',
  'Adaptation and resilience',
  'Procurement',
  'Digital',
];

let server;
let browser;
let contributor;
let reviewer;
let lead;
let axeContext;
killOnExit(() => server);

before(async () => {
  server = await startServer((db) => {
    greenplan(db, ['init']);
    greenplan(db, ['user', 'add', CONTRIBUTOR, '--org', 'RTG', '--role', 'contributor', '--name', 'Pat Project', '--password-stdin'], PASSWORD);
    greenplan(db, ['user', 'add', REVIEWER, '--org', 'RTG', '--role', 'org-admin', '--name', 'Sam Manager', '--password-stdin'], PASSWORD);
    greenplan(db, ['user', 'add', LEAD, '--org', 'QJ2', '--role', 'system-admin', '--name', 'Lee Lead', '--password-stdin'], PASSWORD);
  });
  browser = await chromium.launch(launchOptions);
  contributor = await browser.newContext({ javaScriptEnabled: false, baseURL: server.base });
  reviewer = await browser.newContext({ javaScriptEnabled: false, baseURL: server.base });
  lead = await browser.newContext({ javaScriptEnabled: false, baseURL: server.base });
  axeContext = await browser.newContext({ baseURL: server.base });
  fs.mkdirSync(screenshotDir, { recursive: true });
});

after(async () => {
  await browser?.close();
  await stopServer(server);
  server = undefined;
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

/** Rates every facet on the SIA form neutral with a reason, `negative` negative. */
async function answerFacets(page, negative) {
  for (const facet of FACETS) {
    const group = page.getByRole('group', { name: facet, exact: true });
    const impact = facet === negative ? 'Negative' : 'Neutral';
    await group.getByRole('radio', { name: impact, exact: true }).check();
    await group.getByLabel('Reason').fill(`${facet}: considered by the project team`);
  }
}

let schemeUrl;
let siaUrl;

test('a contributor adds a scheme, drafts and submits an SIA; an admin reviews it; the scheme is tagged', async () => {
  const page = await signIn(contributor, CONTRIBUTOR);
  await page.goto('/');
  await page.getByRole('link', { name: 'Tools', exact: true }).click();
  await page.getByRole('link', { name: 'Scheme register' }).click();
  await page.getByRole('link', { name: 'Add a scheme' }).click();
  await page.getByLabel('Scheme name').fill('Frailty virtual ward');
  await page.getByLabel('Owner').fill('Head of transformation');
  await page.getByLabel('Stage').selectOption('business-case');
  await page.getByLabel('Start date (optional)').fill('2025-05-01');
  await page.getByLabel('Linked priority actions (optional)').fill('CT1');
  await page.getByRole('button', { name: 'Save the scheme' }).click();
  await page.getByRole('heading', { name: 'Frailty virtual ward' }).waitFor();
  await page.getByText('Not yet tagged Greener NHS').waitFor();
  schemeUrl = new URL(page.url()).pathname;

  // The SIA: travel rated negative with no mitigation is refused, with a link to the field.
  await page.goto('/tools/sias/new');
  await page.getByLabel('Policy, project or service change').fill('Frailty virtual ward');
  await page.getByLabel('Scheme on the register (optional)').selectOption({ label: 'Frailty virtual ward' });
  await page.getByLabel('What is changing').fill('Patients cared for at home instead of on a ward.');
  await answerFacets(page, 'Travel and transport');
  await page.getByRole('button', { name: 'Save and submit for review' }).click();
  const problem = page.locator('.nhsuk-error-summary');
  await problem.getByRole('link', { name: /Travel and transport: the impact is negative, so say how it will be mitigated/ }).waitFor();
  await page.screenshot({ path: path.join(screenshotDir, 'sia-missing-mitigation.png'), fullPage: true });
  await page.getByRole('group', { name: 'Travel and transport', exact: true }).getByLabel('Mitigation').fill('Pool electric cars for the visiting team');
  await page.getByRole('button', { name: 'Save and submit for review' }).click();
  await page.getByText('Submitted for review').first().waitFor();
  siaUrl = new URL(page.url()).pathname;
  assert.match(siaUrl, /^\/tools\/sias\/\d+$/);
  // The contributor cannot review their own organisation's form.
  assert.equal(await page.getByRole('button', { name: 'Mark as reviewed' }).count(), 0);

  // The trust's organisation admin reviews it.
  const admin = await signIn(reviewer, REVIEWER);
  await admin.goto(siaUrl);
  await admin.getByLabel('Comment').fill('Mitigation is proportionate.');
  await admin.getByRole('button', { name: 'Mark as reviewed' }).click();
  await admin.locator('#status', { hasText: 'Reviewed' }).waitFor();
  await admin.screenshot({ path: path.join(screenshotDir, 'sia-reviewed.png'), fullPage: true });

  // The scheme carries the tag, on its page and in the register.
  await page.goto(schemeUrl);
  const tag = page.locator('#greener-nhs');
  assert.equal((await tag.textContent()).trim(), 'Greener NHS');
  await page.getByText(/Reviewed SIA \d+/).waitFor();
  await page.goto('/tools/schemes?tag=greener');
  await page.getByRole('link', { name: 'Frailty virtual ward' }).waitFor();
});

const PAGES = [
  ['tools', '/tools'],
  ['schemes', '/tools/schemes'],
  ['scheme-new', '/tools/schemes/new'],
  ['sias', '/tools/sias'],
  ['sia-new', '/tools/sias/new'],
  ['scenarios', '/tools/scenarios'],
  ['scenario-team-up', '/tools/scenarios/1'],
  ['scenario-new', '/tools/scenarios/new'],
  ['care-activities', '/tools/care-activities'],
];

for (const [name, pagePath] of PAGES) {
  test(`tools page ${pagePath} (${name}): no violations of any axe rule`, async () => {
    await expectNoViolations(contributor, name, pagePath);
  });
}

test('the scheme, its SIA and the edit pages: no violations of any axe rule', async () => {
  assert.ok(schemeUrl && siaUrl, 'the workflow test ran first');
  await expectNoViolations(contributor, 'scheme', schemeUrl);
  await expectNoViolations(contributor, 'scheme-edit', `${schemeUrl}/edit`);
  await expectNoViolations(contributor, 'sia', siaUrl);
  await expectNoViolations(lead, 'care-activity-edit', '/tools/care-activities/gp-home-visit');
  await expectNoViolations(contributor, 'action-with-tools', '/actions/CT1');
});
