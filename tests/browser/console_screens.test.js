// Every screen at 1440 px and at 375 px wide, written to
// build/screenshots/NAME-WIDTH.png (the main ones are committed under
// docs/screenshots/).  At both widths nothing is wider than the window.

'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('child_process');
const path = require('path');
const { start, top } = require('./lib/stack');
const { launch, open, shot } = require('./lib/browser');

const DAY = 24 * 3600 * 1000;

let stack;
let browser;
const ids = {};

test.before(async () => {
  stack = await start({
    alice: { password: 'alice-pw', accounts: ['acct-s', 'acct-e', 'acct-t', 'acct-u'] },
    bob: { password: 'bob-pw', accounts: ['acct-b'] },
    dave: { password: 'dave-pw', accounts: ['acct-s'], deny: true },
  });
  browser = await launch();
  const mk = async (name, description, scopes) => {
    const r = await stack.admin('alice', 'POST', '/api/v1/accounts/acct-s/integrations', { name, description, scopes });
    assert.equal(r.status, 201, r.text);
    return r.json;
  };
  // created 100 days ago by the CLI: "rotation due"
  execFileSync(path.join(top, 'build', 'pitctl'), ['--redis', `redis://127.0.0.1:${stack.redisPort}`, '--as', 'ops',
    'create', '--name', 'Legacy CRM export', '--description', 'Nightly export to the old CRM',
    '--scope', 'contacts.readonly', '--account', 'acct-s', '--created-by', 'ops'],
  { env: { ...process.env, PIT_NOW_MS: String(Date.now() - 100 * DAY) }, stdio: 'ignore' });
  const zap = await mk('Zapier sync', 'Contacts and calendar events to Zapier', ['contacts.readonly', 'calendars/events.write']);
  ids.zap = zap.id;
  await stack.callApi(zap.token, 'GET');
  const make = await mk('Make scenario', 'Conversations to Make.com', ['conversations.readonly', 'conversations/message.write']);
  ids.make = make.id;
  const rot = await stack.admin('alice', 'POST', `/api/v1/accounts/acct-s/integrations/${make.id}/rotate`, { mode: 'later', overlap: '7d' });
  assert.equal(rot.status, 200, rot.text);
});

test.after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

async function fits(page, name) {
  const w = await page.evaluate(() => ({ doc: document.documentElement.scrollWidth, win: window.innerWidth }));
  assert.ok(w.doc <= w.win, `${name} at ${page.width}px: ${w.doc}px wide`);
}

async function snap(page, name) {
  await fits(page, name);
  await shot(page, name);
}

for (const width of [1440, 375]) {
  test(`every screen at ${width} px`, async () => {
    const page = await open(browser, stack, 'alice', { width });

    await page.goto(stack.url('/#/a/acct-e'));
    await page.locator('[data-screen="empty"]').waitFor();
    await snap(page, 'empty');

    await page.goto(stack.url('/#/a/acct-s'));
    await page.locator('[data-screen="list"]').waitFor();
    assert.equal(await page.locator('.pill.due').count(), 1, 'rotation due');
    assert.match(await page.locator('.pill.rotating').textContent(), /^old token expires in 6 days 23 hours$/);
    await snap(page, 'list');
    await page.getByRole('button', { name: 'Actions for Zapier sync' }).click();
    await snap(page, 'list-menu');
    await page.getByRole('menuitem', { name: 'Delete' }).click();
    await page.locator('dialog[open]').waitFor();
    await snap(page, 'dialog-delete');
    await page.keyboard.press('Escape');

    // create, both steps, in an account of its own (one per width)
    await page.goto(stack.url(`/#/a/${width > 600 ? 'acct-t' : 'acct-u'}/new`));
    await page.getByLabel('Name').fill('Reporting dashboard');
    await page.getByLabel('Description').fill('Reads contacts and opportunities for the weekly report');
    await snap(page, 'create-basic');
    await page.getByRole('button', { name: 'Next' }).click();
    for (const s of ['contacts.readonly', 'opportunities.readonly', 'calendars/events.write']) {
      await page.locator(`.scope[data-scope="${s}"]`).click();
    }
    await page.getByLabel('Search the scope catalogue').fill('contacts');
    await snap(page, 'create-scopes');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.locator('[data-screen="token"]').waitFor();
    await snap(page, 'token');
    await page.getByRole('button', { name: 'Done' }).click();
    await page.locator('[data-screen="integration"]').waitFor();
    await snap(page, 'integration');
    await page.getByRole('button', { name: 'Rotate and expire this token later' }).click();
    await page.locator('dialog[open]').waitFor();
    await snap(page, 'dialog-rotate-later');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Rotate and expire this token now' }).click();
    await page.locator('dialog[open]').waitFor();
    await snap(page, 'dialog-rotate-now');
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Rotate and expire this token later' }).click();
    await page.locator('dialog[open] button[value="ok"]').click();
    await page.locator('[data-screen="rotating"]').waitFor();
    await page.locator('.flash').evaluate((e) => e.remove());
    await snap(page, 'rotating');
    await page.getByRole('button', { name: 'Expire now' }).click();
    await page.locator('dialog[open]').waitFor();
    await snap(page, 'dialog-expire-now');
    await page.keyboard.press('Escape');

    // a rotation seen later: both tokens masked, last used per token
    await page.goto(stack.url(`/#/a/acct-s/i/${ids.make}`));
    await page.locator('[data-screen="rotating"]').waitFor();
    await snap(page, 'rotating-later');

    await page.goto(stack.url(`/#/a/acct-s/i/${ids.zap}/edit`));
    await page.getByRole('heading', { name: 'Edit integration' }).waitFor();
    await snap(page, 'edit-basic');
    await page.getByRole('button', { name: 'Next' }).click();
    await snap(page, 'edit-scopes');

    await page.goto(stack.url('/#/a/acct-s/audit'));
    await page.locator('[data-screen="audit"]').waitFor();
    await snap(page, 'audit');
    assert.deepEqual(page.watch.errors, []);
    await page.context().close();

    const bob = await open(browser, stack, 'bob', { width });
    await bob.goto(stack.url('/#/a/acct-s'));
    await bob.locator('[data-screen="not-admin"]').waitFor();
    await snap(bob, 'not-admin');
    await bob.context().close();

    const dave = await open(browser, stack, 'dave', { width });
    await dave.goto(stack.url('/'));
    await dave.locator('[data-screen="denied"]').waitFor();
    await snap(dave, 'denied');
    await dave.context().close();
  });
}
