// Browser tests of the greenplan web app, as a newcomer would use it.
//
// A real headless Chromium (the Debian package at /usr/bin/chromium, never a downloaded
// browser) is driven by playwright-core, with JavaScript DISABLED: the site must work without
// it. axe-core checks every page type with every rule it has (WCAG A to AAA, best practice, experimental), and a full-page
// screenshot of each is saved into artifacts/screenshots/ at the repository root.
//
// axe-core itself is JavaScript that needs timers, which never fire in a context with
// JavaScript disabled, so the accessibility checks load each page a second time in a context
// with JavaScript enabled; the pages ship no script of their own, so they are the same pages.
//
// Run with tests/browser/run.sh, or `node --test tests/browser/` after `cargo build -p
// greenplan`. Environment:
//   GREENPLAN_BIN  the greenplan binary (default: target/debug/greenplan of this repository;
//                  a relative path is taken from the current folder)
//   CHROMIUM_PATH  the Chromium binary (default: /usr/bin/chromium)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { axeEveryRule } from './session.mjs';

import { chromiumPath, greenplan, killOnExit, launchOptions, screenshotDir, startServer, stopServer } from './server.mjs';

const ACTION_TIMEOUT_MS = 15_000;
const CSV_HEADER = 'metric,organisation,period,value,unit,as_written,note,reference';

/** @type {{ child: import('node:child_process').ChildProcess, base: string, log: () => string, dir: string } | undefined} */
let server;
/** @type {import('playwright-core').Browser | undefined} */
let browser;
/** The context a newcomer browses in: JavaScript disabled. */
/** @type {import('playwright-core').BrowserContext | undefined} */
let context;
/** A context with JavaScript enabled, only for axe-core (see above). */
/** @type {import('playwright-core').BrowserContext | undefined} */
let axeContext;

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

// Last resort if the test process ends without `after` running: never leave a server behind.
killOnExit(() => server);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function url(p) {
  assert.ok(server, 'the server is not running');
  return new URL(p, server.base).href;
}

async function newPage(ctx = context) {
  assert.ok(ctx, 'the browser context was not created');
  const page = await ctx.newPage();
  // Anything the page logs as an error (a CSP violation, a failed load) is worth knowing.
  const problems = [];
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location()?.url || '';
    // Chromium asks for /favicon.ico by itself; the site has none, which is no page's fault.
    if (/\/favicon\.ico$/.test(where)) return;
    problems.push(`console error: ${m.text()}${where ? ` (${where})` : ''}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A request the browser itself abandons because the test moved on to the next page (the
    // icon of a page left at once) is not a fault of the page.
    if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
    problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  return { page, problems };
}

async function text(locator) {
  return ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/** The text of the <dd> beside the <dt> whose text starts with `term`, in a summary list. */
async function summaryValue(page, term) {
  const row = page.locator('dl.nhsuk-summary-list > div').filter({ has: page.locator('dt', { hasText: term }) });
  const n = await row.count();
  assert.equal(n, 1, `expected one summary row "${term}" on ${page.url()}, found ${n}`);
  return text(row.locator('dd'));
}

async function h1(page) {
  const heading = page.getByRole('heading', { level: 1 });
  const n = await heading.count();
  assert.equal(n, 1, `expected exactly one h1 on ${page.url()}, found ${n}`);
  return text(heading);
}

function formatViolations(pageName, violations) {
  const lines = [`${violations.length} accessibility violation(s) on ${pageName}:`];
  for (const v of violations) {
    lines.push(`\n- [${v.impact}] ${v.id}: ${v.help} (${v.tags.filter((t) => t.startsWith('wcag')).join(', ')})`);
    lines.push(`  ${v.helpUrl}`);
    for (const node of v.nodes.slice(0, 8)) {
      lines.push(`  * ${node.target.join(' ')}`);
      lines.push(`    ${node.html.slice(0, 200)}`);
      const summary = (node.failureSummary || '').split('\n').map((l) => l.trim()).filter(Boolean);
      for (const l of summary) lines.push(`      ${l}`);
    }
    if (v.nodes.length > 8) lines.push(`  … and ${v.nodes.length - 8} more`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Set-up and tear-down
// ---------------------------------------------------------------------------------------------

before(async () => {
  fs.mkdirSync(screenshotDir, { recursive: true });
  // A little prescribing, so the inhaler pages have figures, charts and tables to check.
  server = await startServer((db) =>
    greenplan(db, ['prescribing', 'import', path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'epd-sample.csv'), '--icb', 'QJ2']),
  );
  assert.ok(fs.existsSync(chromiumPath), `Chromium not found at ${chromiumPath} (apt-get install chromium)`);
  browser = await chromium.launch(launchOptions);
  const options = { viewport: { width: 1280, height: 900 }, locale: 'en-GB' };
  context = await browser.newContext({ ...options, javaScriptEnabled: false });
  axeContext = await browser.newContext({ ...options, javaScriptEnabled: true });
  for (const c of [context, axeContext]) {
    c.setDefaultTimeout(ACTION_TIMEOUT_MS);
    c.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
  }
});

after(async () => {
  try {
    await axeContext?.close();
    await context?.close();
    await browser?.close();
  } finally {
    await stopServer(server);
    server = undefined;
  }
});

// ---------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------

test('a newcomer goes from the dashboard to an area, an action and its metric', async () => {
  const { page, problems } = await newPage();
  try {
    const res = await page.goto(url('/'));
    assert.equal(res?.status(), 200, 'the dashboard should answer 200');
    assert.equal(
      await h1(page),
      'Joined Up Care Derbyshire ICS Green Plan 2025 - 2028',
      'the dashboard h1 should be the plan title',
    );

    // The area of focus "Medicines", in the "Areas of focus" section.
    const areas = page.getByRole('region', { name: 'Areas of focus' });
    assert.equal(await areas.count(), 1, 'the dashboard should have one "Areas of focus" section');
    const medicines = areas.getByRole('link', { name: 'Medicines', exact: true });
    assert.equal(await medicines.count(), 1, 'the "Areas of focus" section should link "Medicines" once');
    await medicines.click();
    await page.waitForURL(/\/areas\/[^/]+$/);
    assert.equal(await h1(page), 'Medicines', `the area page ${page.url()} should have the h1 "Medicines"`);

    // The action MED1.
    const med1 = page.getByRole('link', { name: 'MED1', exact: true });
    assert.equal(await med1.count(), 1, `the area page ${page.url()} should link the action MED1 once`);
    await med1.click();
    await page.waitForURL(/\/actions\/MED1$/);
    assert.match(await text(page.locator('.nhsuk-caption-l')), /Medicines · MED1/, 'the action page caption should name its area and id');
    const delivery = await summaryValue(page, 'Delivery date');
    assert.equal(
      delivery,
      '50% reduction in carbon footprint of inhalers by 2028',
      'the action page should show the delivery date as written in the plan',
    );
    const lead = await summaryValue(page, 'Lead');
    assert.match(lead, /Greener Medicines Working Group/, `the lead of MED1 should be the Greener Medicines Working Group, got "${lead}"`);

    // Its metric, inhaler carbon.
    const metricLink = page.getByRole('link', { name: 'Carbon emissions of all inhalers, Derbyshire', exact: true });
    assert.ok((await metricLink.count()) >= 1, 'the action page should link the metric "Carbon emissions of all inhalers, Derbyshire"');
    await metricLink.first().click();
    await page.waitForURL(/\/metrics\/inhaler-carbon$/);
    assert.equal(await h1(page), 'Carbon emissions of all inhalers, Derbyshire', 'the metric page h1 should be the metric name');

    // The chart: an SVG with role img, a title and an accessible name.
    const chart = page.locator('svg[role="img"]');
    assert.ok((await chart.count()) >= 1, 'the metric page should have an SVG chart with role="img"');
    const title = await text(chart.first().locator('title'));
    assert.ok(title.length > 0, 'the chart SVG should have a non-empty <title>');
    const named = page.getByRole('img', { name: title });
    assert.ok((await named.count()) >= 1, `the chart should be exposed as an image named by its title "${title}"`);

    // The CSV of the values.
    const csvLink = page.getByRole('link', { name: 'Download the values (CSV)' });
    assert.equal(await csvLink.count(), 1, 'the metric page should have one "Download the values (CSV)" link');
    assert.notEqual(await csvLink.getAttribute('download'), null, 'the CSV link should carry the download attribute');
    const href = await csvLink.getAttribute('href');
    assert.ok(href, 'the CSV link should have an href');
    const csvRes = await page.request.get(new URL(href, page.url()).href);
    assert.equal(csvRes.status(), 200, `the CSV ${href} should answer 200`);
    assert.match(csvRes.headers()['content-type'] ?? '', /text\/csv/, 'the CSV should be served as text/csv');
    const csv = (await csvRes.text()).replace(/^\uFEFF/, '');
    const [header, ...rows] = csv.split(/\r?\n/).filter((l) => l.length > 0);
    assert.equal(header, CSV_HEADER, 'the CSV header');
    assert.ok(rows.length > 0, 'the CSV should have at least one row of values');
    assert.ok(rows.every((r) => r.startsWith('inhaler-carbon,')), 'every CSV row should be of the metric inhaler-carbon');

    assert.deepEqual(problems, [], `the pages logged problems:\n${problems.join('\n')}`);
  } finally {
    await page.close();
  }
});

test('the actions filter works without JavaScript', async () => {
  const { page, problems } = await newPage();
  try {
    await page.goto(url('/actions'));
    assert.equal(await h1(page), 'Priority actions');
    const all = await page.locator('main table tbody tr').count();

    await page.getByLabel('Area of focus').selectOption({ label: 'Medicines' });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/[?&]area=/);

    const listed = page.locator('main table tbody tr');
    const ids = await listed.locator('td:first-child a').allTextContents();
    assert.equal(ids.length, 3, `the filter "Medicines" should list exactly 3 actions, listed ${ids.length}: ${ids.join(', ')}`);
    assert.ok(ids.length < all, `the filter should list fewer actions than the ${all} unfiltered ones`);
    assert.ok(ids.every((id) => id.startsWith('MED')), `every action listed should be a Medicines action, got ${ids.join(', ')}`);
    assert.match(await text(page.locator('main')), /\b3 actions\./, 'the page should say "3 actions."');
    const selected = await page.getByLabel('Area of focus').locator('option:checked').textContent();
    assert.equal(selected, 'Medicines', 'the form should keep the chosen area selected');

    assert.deepEqual(problems, [], `the pages logged problems:\n${problems.join('\n')}`);
  } finally {
    await page.close();
  }
});

test('keyboard: the skip link works and focused links stay readable', async () => {
  // Focus styles are only seen with a keyboard, so axe-core's page scan never sees them: tab
  // through the header as a keyboard user would, checking the contrast at each stop. Visit the
  // dashboard first so that header links are also in their :visited state.
  const { page, problems } = await newPage(axeContext);
  try {
    await page.goto(url('/'));
    await page.goto(url('/no-such-page'));
    const stops = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => {
        const e = document.activeElement;
        const r = e?.getBoundingClientRect();
        return {
          tag: e?.tagName.toLowerCase(),
          text: (e?.textContent ?? '').replace(/\s+/g, ' ').trim(),
          visible: !!r && r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 &&
            r.left < window.innerWidth && r.top < window.innerHeight,
        };
      });
      stops.push(focused.text);
      assert.ok(focused.visible, `the focused ${focused.tag} "${focused.text}" should be visible on screen`);
      const results = await new AxeBuilder({ page }).withRules(['color-contrast']).analyze();
      assert.equal(
        results.violations.length,
        0,
        formatViolations(`${page.url()} with "${focused.text}" focused`, results.violations),
      );
    }
    assert.equal(stops[0], 'Skip to main content', `the first Tab stop should be the skip link, stops were: ${stops.join(' | ')}`);
    for (const name of ['Dashboard', 'Actions', 'Metrics', 'Registers', 'Medicines', 'Organisations', 'Visions', 'Reports', 'Tools']) {
      assert.ok(stops.includes(name), `Tab should reach the header link "${name}", stops were: ${stops.join(' | ')}`);
    }

    // The skip link moves focus to the main content.
    await page.goto(url('/no-such-page'));
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    const moved = await page
      .waitForFunction(() => document.activeElement?.id === 'maincontent', null, { timeout: 5_000 })
      .then(() => true, () => false);
    const active = await page.evaluate(() => `${document.activeElement?.tagName.toLowerCase()}#${document.activeElement?.id}`);
    assert.ok(moved, `following the skip link should move focus to <main id="maincontent">, focus is on ${active}`);
    assert.match(page.url(), /#maincontent$/, 'following the skip link should go to #maincontent');

    const unexpected = problems.filter((m) => !m.includes('/no-such-page'));
    assert.deepEqual(unexpected, [], `the pages logged problems:\n${unexpected.join('\n')}`);
  } finally {
    await page.close();
  }
});

const PAGES = [
  { name: 'dashboard', path: '/' },
  { name: 'area', path: '/areas/medicines' },
  { name: 'actions', path: '/actions' },
  { name: 'action', path: '/actions/MED1' },
  { name: 'metrics', path: '/metrics' },
  { name: 'metric', path: '/metrics/inhaler-carbon' },
  { name: 'organisations', path: '/organisations' },
  { name: 'organisation', path: '/organisations/RFS' },
  { name: 'visions', path: '/visions' },
  { name: 'inhalers', path: '/medicines/inhalers' },
  { name: 'inhaler-league', path: '/medicines/inhalers/league' },
  { name: 'inhaler-practice', path: '/medicines/inhalers/practices/C81001' },
  { name: 'not-found', path: '/no-such-page', status: 404 },
];

for (const p of PAGES) {
  test(`page ${p.path} (${p.name}): no violations of any axe rule, screenshot`, async (t) => {
    const expected = p.status ?? 200;
    // As a newcomer sees it, without JavaScript: check it answers, then take the screenshot.
    const { page, problems } = await newPage();
    try {
      const res = await page.goto(url(p.path));
      assert.equal(res?.status(), expected, `${p.path} should answer ${expected}`);
      await h1(page);
      await page.screenshot({ path: path.join(screenshotDir, `${p.name}.png`), fullPage: true });
      // The main document of a 404 is logged as a failed load by design; nothing else should be.
      const unexpected = problems.filter((m) => !(p.status === 404 && m.includes(url(p.path))));
      assert.deepEqual(unexpected, [], `${p.path} logged problems:\n${unexpected.join('\n')}`);
    } finally {
      await page.close();
    }

    // axe-core, in the context with JavaScript enabled.
    const { page: axePage } = await newPage(axeContext);
    try {
      const res = await axePage.goto(url(p.path));
      assert.equal(res?.status(), expected, `${p.path} should answer ${expected}`);
      const results = await axeEveryRule(axePage).analyze();
      assert.ok(results.passes.length > 0, `axe-core ran no passing check on ${p.path}: did it run at all?`);
      assert.equal(results.violations.length, 0, formatViolations(p.path, results.violations));
      // What axe-core could not decide by itself is for a person to review: say so, don't fail.
      for (const r of results.incomplete) {
        t.diagnostic(`axe needs review on ${p.path}: ${r.id} (${r.help}) on ${r.nodes.length} element(s)`);
      }
    } finally {
      await axePage.close();
    }
  });
}
