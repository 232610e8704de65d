// A staff travel survey, end to end, in a real Chromium with JavaScript off: a trust's
// organiser builds and opens a survey; three respondents, each in their own browser context
// and without signing in, take the open link and answer; one tries to answer twice and is
// refused; the organiser closes the survey, a late respondent is turned away, and the analysis
// shows the mode shares worked out by hand. The organiser also adds a digital scheme to the
// green digital benefits framework. axe-core checks the survey, analysis and digital pages.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { axeEveryRule } from './session.mjs';
import { greenplan, killOnExit, launchOptions, repoRoot, screenshotDir, startServer, stopServer } from './server.mjs';
import fs from 'node:fs';

const PASSWORD = 'a long test pass phrase';
const ORGANISER = 'travel.lead@uhdb.nhs.uk';
const FACTORS = path.resolve(repoRoot, '../shared/data/ghg-conversion-factors/uk-ghg-conversion-factors-2023-flat-file.xlsx');

let server;
let browser;
let organiser;
let axeContext;
let surveyPath;
let openLink;
killOnExit(() => server);

before(async () => {
  server = await startServer((db) => {
    greenplan(db, ['init']);
    greenplan(db, ['factors', 'import', FACTORS]);
    greenplan(db, ['user', 'add', ORGANISER, '--org', 'RTG', '--role', 'contributor', '--name', 'Tia Travel', '--password-stdin'], PASSWORD);
  });
  browser = await chromium.launch(launchOptions);
  organiser = await browser.newContext({ javaScriptEnabled: false, baseURL: server.base });
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

/** axe-core on the page as it is now. */
async function checkPage(page, name) {
  const results = await axeEveryRule(page).analyze();
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
  const summary = results.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`);
  assert.deepEqual(summary, [], `accessibility violations on ${name} (${page.url()})`);
}

/** axe-core on a page seen with `context`'s session (JavaScript on, as axe needs it). */
async function expectNoViolations(context, name, pagePath) {
  await axeContext.clearCookies();
  if (context) await axeContext.addCookies(await context.cookies());
  const page = await axeContext.newPage();
  await page.goto(pagePath);
  await checkPage(page, name);
  await page.close();
}

/** One respondent, in a browser context of their own with no session, answers the survey. */
async function respond({ site, distance, unit, postcode, days, ticks }) {
  const context = await browser.newContext({ javaScriptEnabled: false, baseURL: server.base });
  const page = await context.newPage();
  await page.goto(openLink);
  await page.getByText('It does not ask for your name, your e-mail address or your full postcode').waitFor();
  await page.getByRole('button', { name: 'Start the survey' }).click();
  await page.waitForURL(/\/tools\/travel-surveys\/respond\//);
  const respondUrl = page.url();
  await page.getByLabel('Which site do you travel to?').selectOption(site);
  await page.getByLabel('Distance', { exact: true }).fill(distance);
  await page.getByLabel(unit, { exact: true }).check();
  if (postcode) await page.getByLabel('The first part of your home postcode (optional)').fill(postcode);
  for (const [day, mode] of Object.entries(days)) {
    await page.getByLabel(day, { exact: true }).selectOption(mode);
  }
  for (const label of ticks) await page.getByLabel(label, { exact: true }).check();
  await page.getByRole('button', { name: 'Send my answers' }).click();
  await page.getByRole('heading', { name: 'Thank you' }).waitFor();
  return { context, page, respondUrl };
}

test('an organiser runs a staff travel survey that three people answer', async () => {
  const page = await signIn(organiser, ORGANISER);
  await page.goto('/tools/travel-surveys');
  await page.getByLabel('Title').fill('Staff travel survey 2025');
  await page.getByLabel('Sites').fill('Royal Derby Hospital\nLondon Road Community Hospital');
  await page.getByLabel('Financial year').fill('2025/26');
  await page.getByLabel('Headcount (optional)').fill('300');
  await page.getByRole('button', { name: 'Build the survey' }).click();
  await page.waitForURL(/\/tools\/travel-surveys\/\d+$/);
  surveyPath = new URL(page.url()).pathname;
  await page.getByText('The survey is a draft').waitFor();
  await page.getByRole('button', { name: 'Open the survey' }).click();
  openLink = await page.locator('#open-link').getAttribute('href');
  assert.match(openLink, /^\/tools\/travel-surveys\/take\/[0-9a-f]{24}$/);

  // Three respondents, each in a separate browser context: 14 days on site between them.
  const first = await respond({
    site: 'Royal Derby Hospital', distance: '10', unit: 'Kilometres',
    days: { Monday: 'car', Tuesday: 'car', Wednesday: 'car', Thursday: 'car', Friday: 'car' },
    ticks: ['It is too far', 'My shift times'],
  });
  const second = await respond({
    site: 'London Road Community Hospital', distance: '2', unit: 'Miles', postcode: 'DE22 3NE',
    days: { Monday: 'bus', Tuesday: 'bus', Wednesday: 'bus', Thursday: 'walk', Friday: 'walk' },
    ticks: ['The weather', 'The cost', 'Bus ticket discounts'],
  });
  await second.page.getByText('You gave a full postcode: only its first part, DE22, has been kept.').waitFor();
  const third = await respond({
    site: 'London Road Community Hospital', distance: '3', unit: 'Kilometres',
    days: { Monday: 'cycle', Tuesday: 'cycle', Thursday: 'cycle', Friday: 'cycle' },
    ticks: ['The weather', 'There are no showers or changing rooms', 'Cycle to work scheme'],
  });
  await third.page.screenshot({ path: path.join(screenshotDir, 'travel-thank-you.png'), fullPage: true });

  // The first respondent's link cannot answer again.
  await first.page.goto(first.respondUrl);
  await first.page.getByRole('heading', { name: 'You have already answered' }).waitFor();

  // The organiser closes the survey; a late visitor is turned away.
  await page.goto(surveyPath);
  assert.match(await page.locator('.nhsuk-summary-list').textContent(), /3 · Analysis/);
  await page.getByRole('button', { name: 'Close the survey' }).click();
  await page.getByText('The survey is closed').waitFor();
  const late = await browser.newContext({ javaScriptEnabled: false, baseURL: server.base });
  const latePage = await late.newPage();
  await latePage.goto(openLink);
  await latePage.getByRole('heading', { name: 'This survey is closed' }).waitFor();
  await Promise.all([first.context.close(), second.context.close(), third.context.close(), late.close()]);

  // The analysis: car 5/14 = 35.7%, cycle 4/14 = 28.6%, bus 3/14 = 21.4%, walk 2/14 = 14.3%.
  await page.getByRole('link', { name: 'Analysis' }).click();
  await page.getByText('3 responses, 14 days on site a typical week.').waitFor();
  const rowLocator = page.locator('#mode-share tbody tr');
  const rows = [];
  for (let i = 0; i < (await rowLocator.count()); i++) {
    rows.push((await rowLocator.nth(i).locator('td').allTextContents()).map((c) => c.trim()).join(' | '));
  }
  assert.deepEqual(rows, [
    'Car, on my own | 5 | 35.7%',
    'Cycle | 4 | 28.6%',
    'Bus or coach | 3 | 21.4%',
    'Walk or wheel | 2 | 14.3%',
  ]);
  const bySite = page.locator('table').filter({ hasText: 'Mode share by organisation and site' });
  assert.match(await bySite.locator('tr', { hasText: 'London Road Community Hospital' }).filter({ hasText: 'Cycle' }).textContent(), /44\.4%/);
  assert.match(await page.locator('svg.chart title').first().textContent(), /Mode share/);
  await page.getByText(/In the footprint \(NHS Carbon Footprint Plus\): Staff travel survey 2025 \(Staff commuting, 2025\/26\)/).waitFor();
  // Emissions, scaled × 300 ÷ 3: car 10 km × 2 × 5 days × 46 weeks × 100 = 460,000 km ×
  // 0.1666385879194631 = 76,653.75 kg; bus 2 miles = 3.218688 km × 2 × 3 × 46 × 100 =
  // 88,835.7888 passenger-km × 0.10215039463087248 = 9,074.61 kg; cycling and walking 0.
  assert.match(await page.locator('#emissions-total').textContent(), /85\.73 tCO2e a year/);
  // Barriers: the weather (2) is ranked above the others (1 each).
  const barriers = await page.locator('table').filter({ hasText: 'What stops you walking or cycling' }).locator('tbody tr').allTextContents();
  assert.match(barriers[0], /The weather\s*2/);
  await page.screenshot({ path: path.join(screenshotDir, 'travel-analysis.png'), fullPage: true });
});

test('the survey pages pass axe: landing, questions, problems, thank you', async () => {
  // A second survey, left open, for the public pages.
  const page = await organiser.newPage();
  await page.goto('/tools/travel-surveys');
  await page.getByLabel('Title').fill('Patient and visitor travel 2025');
  await page.getByLabel('Patients and visitors (patient and visitor travel)').check();
  await page.getByRole('button', { name: 'Build the survey' }).click();
  await page.getByRole('button', { name: 'Open the survey' }).click();
  const link = await page.locator('#open-link').getAttribute('href');
  await axeContext.clearCookies();
  const visitor = await axeContext.newPage();
  await visitor.goto(link);
  await checkPage(visitor, 'travel-open-link');
  await visitor.getByRole('button', { name: 'Start the survey' }).click();
  await visitor.waitForURL(/\/respond\//);
  await checkPage(visitor, 'travel-questions');
  await visitor.getByLabel('The first part of your home postcode (optional)').fill('Derby');
  await visitor.getByRole('button', { name: 'Send my answers' }).click();
  await visitor.getByText('is not a UK postcode district').first().waitFor();
  await checkPage(visitor, 'travel-questions-problem');
  await visitor.getByLabel('The first part of your home postcode (optional)').fill('S41');
  await visitor.getByLabel('Monday', { exact: true }).selectOption('train');
  await visitor.getByRole('button', { name: 'Send my answers' }).click();
  await visitor.getByRole('heading', { name: 'Thank you' }).waitFor();
  await checkPage(visitor, 'travel-thank-you-axe');
  await visitor.close();
});

test('a digital scheme is added and shown with its factors', async () => {
  const page = await organiser.newPage();
  await page.goto('/tools/digital-benefits');
  await page.getByRole('link', { name: 'Add a digital scheme' }).click();
  await page.getByLabel('Scheme name').fill('Patient portal');
  await page.getByLabel('Start date').fill('2025-04-01');
  await page.getByLabel('Mode', { exact: true }).first().selectOption('car');
  await page.getByLabel('Journeys a year').first().fill('2000');
  await page.getByLabel('Distance of each journey, km (there and back)').first().fill('20');
  await page.getByLabel('Letters a year').fill('10000');
  await page.getByLabel('A4 sheets in each letter').fill('2');
  await page.getByLabel('Number of devices').first().fill('100');
  await page.getByLabel('Embodied carbon of each, kgCO2e').first().fill('150');
  await page.getByLabel('Life, years').first().fill('4');
  await page.getByLabel('Source of the embodied carbon').first().fill('Manufacturer PCF 2024');
  await page.getByLabel('Hosting energy, kWh a year').fill('5000');
  await page.getByRole('button', { name: 'Add the scheme' }).click();
  await page.waitForURL(/\/tools\/digital-benefits\/\d+$/);
  // Car 40,000 km × 0.1666385879194631 + paper 0.1 t × 910.478097809396 = 6,756.591 kg;
  // devices 3,750 + hosting 5,000 × 0.20707428859060403 = 4,785.371 kg: net 1.971 t.
  const result = await page.locator('#result').textContent();
  assert.match(result, /6\.757 tCO2e a year/);
  assert.match(result, /4\.785 tCO2e a year/);
  assert.match(result, /1\.971 tCO2e a year/);
  const schemePath = new URL(page.url()).pathname;
  await expectNoViolations(organiser, 'digital-scheme', schemePath);
  await expectNoViolations(organiser, 'digital-portfolio', '/tools/digital-benefits');
  await expectNoViolations(organiser, 'digital-new', '/tools/digital-benefits/new');
});

const ORGANISER_PAGES = [
  ['travel-surveys', '/tools/travel-surveys'],
  ['travel-analysis-organisation', '/tools/travel-surveys/organisations/RTG/analysis'],
];

for (const [name, pagePath] of ORGANISER_PAGES) {
  test(`organiser page ${pagePath} (${name}): no violations of any axe rule`, async () => {
    await expectNoViolations(organiser, name, pagePath);
  });
}

test('the survey and its analysis pass axe', async () => {
  await expectNoViolations(organiser, 'travel-survey', surveyPath);
  await expectNoViolations(organiser, 'travel-analysis', `${surveyPath}/analysis`);
});
