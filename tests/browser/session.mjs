// Helpers that browser tests share once signed in: signing in through the login page, and an
// axe-core check of a page as a signed-in person sees it. (Older test files keep their own
// copies; new ones import these.)

import assert from 'node:assert/strict';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import axeCore from 'axe-core';
import { screenshotDir } from './server.mjs';

export const PASSWORD = 'a long test pass phrase';
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * Every rule axe-core has, whatever its tags: WCAG 2.0 to 2.2 at A, AA and AAA, best
 * practice, experimental (such as label-content-name-mismatch, WCAG 2.5.3), deprecated.
 * Named by id, because a run by tag leaves out the rules axe-core turns off by default.
 */
export const EVERY_RULE = axeCore.getRules().map((r) => r.ruleId);

/** An axe-core check of `page` with every rule (see `EVERY_RULE`). */
export function axeEveryRule(page) {
  return new AxeBuilder({ page }).withRules(EVERY_RULE);
}

/** Signs `email` in on a new page of `context` and returns the page. */
export async function signIn(context, email, password = PASSWORD) {
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

/**
 * axe-core on `pagePath`, seen with `context`'s session but in `axeContext` (JavaScript on, as
 * axe needs it); a full-page screenshot is kept under `name`.
 */
export async function expectNoViolations(axeContext, context, name, pagePath) {
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
