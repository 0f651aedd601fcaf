// Debian's chromium through playwright-core, and what every console test
// watches: dialogs (alert/confirm/prompt: none may open), console errors,
// uncaught page errors, and CSP violations.  shot() writes
// build/screenshots/NAME-WIDTH.png.

'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');
const { top } = require('./stack');

const exe = process.env.PIT_CHROMIUM || '/usr/bin/chromium';
const shotsDir = path.join(top, 'build', 'screenshots');

async function launch() {
  return chromium.launch({
    executablePath: exe,
    headless: true,
    args: ['--no-proxy-server', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-gpu'],
  });
}

// A signed-in page for user (auth_basic), at width px, in a time zone
// other than UTC so that local and UTC times differ.
async function open(browser, stack, user, opts) {
  const o = opts || {};
  const width = o.width || 1440;
  const context = await browser.newContext({
    httpCredentials: { username: user, password: stack.users[user] },
    viewport: { width, height: o.height || (width < 600 ? 812 : 900) },
    deviceScaleFactor: 1,
    timezoneId: o.timezoneId || 'America/New_York',
    locale: 'en-US',
    reducedMotion: 'reduce',
  });
  if (o.clipboard !== false) {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.url('').replace(/\/$/, '') });
  }
  const page = await context.newPage();
  page.setDefaultTimeout(o.timeout || 10000);
  const watch = { dialogs: [], errors: [], csp: [] };
  page.on('dialog', async (d) => { watch.dialogs.push(`${d.type()}: ${d.message()}`); await d.dismiss(); });
  page.on('console', (m) => {
    if (m.type() === 'error') {
      const t = m.text();
      // an API answer the console shows the user (401/403/404/409...) is
      // reported by chromium as a failed resource: not a script error
      if (/Failed to load resource: the server responded with a status of 4\d\d/.test(t)) return;
      if (/Content Security Policy/i.test(t)) watch.csp.push(t);
      watch.errors.push(t);
    }
  });
  page.on('pageerror', (e) => watch.errors.push(`pageerror: ${e.message}`));
  page.watch = watch;
  page.width = width;
  return page;
}

// The whole page; a modal dialog with the window only (its backdrop
// covers the window).
async function shot(page, name) {
  fs.mkdirSync(shotsDir, { recursive: true });
  const file = path.join(shotsDir, `${name}-${page.width}.png`);
  const modal = await page.locator('dialog[open]').count();
  await page.screenshot({ path: file, fullPage: !modal, animations: 'disabled', caret: 'hide' });
  return file;
}

// Waits until fn() (async) returns true, polling; throws with what it saw.
async function eventually(fn, ms, what) {
  const end = Date.now() + (ms || 5000);
  let last;
  for (;;) {
    last = await fn();
    if (last === true) return;
    if (Date.now() > end) throw new Error(`${what || 'condition'}: still ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Waits until a token gets status from the upstream through nginx.
async function expectStatus(stack, token, method, want, p) {
  await eventually(async () => {
    const got = await stack.callApi(token, method, p);
    return got === want ? true : got;
  }, 5000, `${method} ${p || '/contacts/x'} with ${token ? token.slice(0, 8) : 'no token'} should be ${want}`);
}

module.exports = { launch, open, shot, eventually, expectStatus, shotsDir };
