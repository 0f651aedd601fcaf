// Names, descriptions and account ids that look like HTML are shown as
// text on every screen and run nothing: no alert/confirm/prompt dialog, no
// console error (a CSP refusal would be one), no <img> or <script> made
// from them.  And the console's sources never parse HTML.

'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const { start, top } = require('./lib/stack');
const { launch, open } = require('./lib/browser');

const NASTY = [
  '<img src=x onerror=alert(1)>',
  '"><script>alert(2)</script>',
  "'><svg onload=alert(3)>",
  '<a href="javascript:alert(4)">click</a>',
];
const DESC = '</td><iframe src="javascript:alert(5)"></iframe><b onmouseover=alert(6)>x</b>';

let stack;
let browser;

test.before(async () => {
  stack = await start({ alice: { password: 'alice-pw', accounts: ['acct-a'] } });
  browser = await launch();
});

test.after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

test('the console sources build no HTML from strings', () => {
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f); else files.push(f);
    }
  };
  walk(path.join(top, 'console'));
  assert.ok(files.length >= 10);
  for (const f of files) {
    const src = fs.readFileSync(f, 'utf8');
    for (const bad of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function',
      'localStorage', 'sessionStorage', 'http://', 'https://']) {
      if (f.endsWith('.svg') && /https?:\/\//.test(bad)) continue; // the SVG namespace
      assert.ok(!src.includes(bad), `${path.relative(top, f)} holds ${bad}`);
    }
    if (f.endsWith('.html')) {
      assert.doesNotMatch(src, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
      assert.doesNotMatch(src, /<style|\sstyle=|\son[a-z]+=/i, 'no inline style or handler');
    }
    if (f.endsWith('.js')) assert.doesNotMatch(src, /\.style\.|setAttribute\('style'/, 'no inline style from scripts');
  }
});

async function noInjection(page, where) {
  const found = await page.evaluate(() => ({
    img: document.querySelectorAll('main img, dialog img, main svg, main iframe').length,
    scripts: [...document.scripts].map((s) => s.getAttribute('src')),
    bold: document.querySelectorAll('main b').length,
    js: [...document.querySelectorAll('a[href]')].filter((a) => /^javascript:/i.test(a.getAttribute('href'))).length,
  }));
  assert.equal(found.img, 0, `${where}: no element made from a name`);
  assert.deepEqual(found.scripts, ['js/app.js'], `${where}: only the console's script`);
  assert.equal(found.bold, 0, `${where}: no <b> from a description`);
  assert.equal(found.js, 0, `${where}: no javascript: link`);
  assert.deepEqual(page.watch.dialogs, [], `${where}: no dialog opened`);
  assert.deepEqual(page.watch.errors, [], `${where}: no console error`);
}

test('names that look like HTML are shown as text and run nothing', async () => {
  const ids = [];
  for (const name of NASTY) {
    const r = await stack.admin('alice', 'POST', '/api/v1/accounts/acct-a/integrations',
      { name, description: DESC, scopes: ['contacts.readonly'] });
    assert.equal(r.status, 201, r.text);
    ids.push(r.json.id);
  }
  const page = await open(browser, stack, 'alice');
  await page.goto(stack.url('/'));
  await page.locator('[data-screen="list"]').waitFor();
  const names = await page.locator('tbody .name').allTextContents();
  assert.deepEqual(names.sort(), NASTY.slice().sort());
  const descs = await page.locator('tbody td.desc').allTextContents();
  for (const d of descs) assert.equal(d, DESC);
  await noInjection(page, 'list');

  // the three-dot menu's label, the delete dialog
  await page.getByRole('button', { name: `Actions for ${NASTY[0]}` }).click();
  await page.getByRole('menuitem', { name: 'Delete' }).click();
  await page.locator('dialog[open]').waitFor();
  assert.equal(await page.locator('dialog[open] strong').textContent(), NASTY[0]);
  await noInjection(page, 'delete dialog');
  await page.keyboard.press('Escape');
  await page.locator('dialog').waitFor({ state: 'detached' });

  // the integration page, the edit form, the audit
  for (const [i, id] of ids.entries()) {
    await page.goto(stack.url(`/#/a/acct-a/i/${id}`));
    await page.waitForFunction((n) => {
      const h1 = document.querySelector('[data-screen="integration"]') && document.querySelector('h1');
      return h1 && h1.textContent === n;
    }, NASTY[i]);
    assert.equal(await page.locator('dd.desc').textContent(), DESC);
    await noInjection(page, `integration ${i}`);
  }
  await page.goto(stack.url(`/#/a/acct-a/i/${ids[1]}/edit`));
  await page.getByLabel('Name').waitFor();
  assert.equal(await page.getByLabel('Name').inputValue(), NASTY[1]);
  assert.equal(await page.getByLabel('Description').inputValue(), DESC);
  await noInjection(page, 'edit');
  await page.goto(stack.url('/#/a/acct-a/audit'));
  await page.locator('[data-screen="audit"]').waitFor();
  const audit = await page.locator('[data-screen="audit"] tbody').textContent();
  for (const n of NASTY) assert.ok(audit.includes(n), `audit shows ${n} as text`);
  await noInjection(page, 'audit');

  // an account id in the URL that looks like HTML
  await page.goto(stack.url(`/#/a/${encodeURIComponent('<img src=x onerror=alert(7)>')}`));
  await page.locator('[data-screen="not-admin"]').waitFor();
  assert.match(await page.locator('main').textContent(), /<img src=x onerror=alert\(7\)>/);
  await noInjection(page, 'account id');
  await page.context().close();
});

test('a name that looks like HTML, created through the console', async () => {
  const page = await open(browser, stack, 'alice');
  await page.goto(stack.url('/#/a/acct-a/new'));
  const name = '"><script>alert(8)</script><img src=x onerror=alert(9)>';
  await page.getByLabel('Name').fill(name);
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('.scope[data-scope="contacts.readonly"]').click();
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('[data-screen="token"]').waitFor();
  assert.equal(await page.locator('[data-screen="token"] h2').textContent(), name);
  await noInjection(page, 'token page');
  await page.getByRole('button', { name: 'Done' }).click();
  await page.locator('[data-screen="integration"]').waitFor();
  assert.equal(await page.locator('h1').textContent(), name);
  await noInjection(page, 'integration page');
  await page.context().close();
});
