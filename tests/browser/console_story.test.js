// The whole story, clicked through in chromium against a real pitctl
// serve, redis-server and nginx: create -> copy the token -> 200 through
// nginx -> edit scopes (same token; the new scope enforced, the removed
// one 403) -> rotate later (both tokens 200; the countdown texts) ->
// cancel rotation -> rotate later -> expire now (old 401) -> rotate now
// (old 401, new 200) -> delete (401).  (console_screens.test.js takes
// the screenshots.)

'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('./lib/stack');
const { launch, open, expectStatus, eventually } = require('./lib/browser');

const TOKEN_RE = /^pit-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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

// Clicks a button and Continue in the <dialog> that asks.
async function confirm(page, button, title) {
  await page.getByRole('button', { name: button, exact: true }).click();
  const dlg = page.locator('dialog[open]');
  await dlg.waitFor();
  assert.match(await dlg.locator('h2').textContent(), title);
  const ok = dlg.locator('button[value="ok"]');
  await ok.click();
  await dlg.waitFor({ state: 'detached' });
}

async function noSecretsKept(page, tokens) {
  const kept = await page.evaluate(() => ({
    url: location.href,
    local: JSON.stringify({ ...localStorage }),
    session: JSON.stringify({ ...sessionStorage }),
    cookie: document.cookie,
    history: history.length,
  }));
  for (const t of tokens) {
    assert.ok(!kept.url.includes(t), 'the token is not in the URL');
    assert.ok(!kept.local.includes(t) && !kept.session.includes(t), 'nor in web storage');
    assert.ok(!kept.cookie.includes(t), 'nor in a cookie');
  }
  assert.equal(kept.local, '{}');
  assert.equal(kept.session, '{}');
}

test('the whole story, clicked through', async () => {
  const page = await open(browser, stack, 'alice');
  const tokenResponses = [];
  page.on('response', async (r) => {
    if (/\/api\/v1\/accounts\/.*\/(integrations|rotate)$/.test(new URL(r.url()).pathname) && r.request().method() === 'POST') {
      tokenResponses.push({ cache: r.headers()['cache-control'] });
    }
  });

  // -- the empty state
  await page.goto(stack.url('/'));
  await page.getByRole('heading', { name: 'Start by creating a private integration' }).waitFor();
  assert.match(page.url(), /#\/a\/acct-a$/);

  // -- create, step 1
  await page.getByRole('link', { name: 'Create new integration' }).click();
  const name = page.getByLabel('Name');
  await name.waitFor();
  assert.equal(await page.locator('#name-count').textContent(), '0 / 200');
  await name.fill('My Make App1');
  await page.getByLabel('Description').fill('Syncs contacts with Make');
  assert.equal(await page.locator('#name-count').textContent(), '12 / 200');
  assert.equal(await page.locator('#description-count').textContent(), '24 / 500');
  await page.getByRole('button', { name: 'Next' }).click();

  // -- create, step 2: search, choose, chips with labels, the ✓
  await page.getByRole('heading', { name: 'Scopes' }).waitFor();
  assert.match(await page.locator('.step-panel:not([hidden])').textContent(), /grant as few scopes as necessary/);
  await page.getByLabel('Search the scope catalogue').fill('contacts');
  const viewContacts = page.locator('.scope[data-scope="contacts.readonly"]');
  await viewContacts.click();
  assert.equal(await viewContacts.getAttribute('aria-pressed'), 'true');
  assert.equal((await viewContacts.locator('.check').textContent()).trim(), '✓');
  await page.getByLabel('Search the scope catalogue').fill('view loc');
  await page.locator('.scope[data-scope="locations.readonly"]').click();
  const chips = await page.locator('.chips .chip').allTextContents();
  assert.deepEqual(chips.map((c) => c.trim()), ['View Contacts ×', 'View Locations ×']);
  await page.getByLabel('Search the scope catalogue').fill('');
  await page.getByRole('button', { name: 'Create', exact: true }).click();

  // -- the token page: the token once, Copy, the warning
  await page.getByRole('heading', { name: 'Your integration is ready' }).waitFor();
  const token = (await page.locator('output.token').textContent()).trim();
  assert.match(token, TOKEN_RE);
  assert.match(await page.locator('[data-screen="token"]').textContent(), /won’t be able to see it again/);
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.getByText('Copied').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
  await noSecretsKept(page, [token]);

  // -- the token works through nginx, with its scopes only
  await expectStatus(stack, token, 'GET', 200);
  await expectStatus(stack, token, 'GET', 200, '/locations/x');
  await expectStatus(stack, token, 'POST', 403);
  await expectStatus(stack, 'pit-00000000-0000-0000-0000-000000000000', 'GET', 401);

  // -- the integration page: masked token, advice, last used
  await page.getByRole('button', { name: 'Done' }).click();
  await page.getByRole('heading', { name: 'My Make App1' }).waitFor();
  const masked = (await page.locator('.token.masked').textContent()).trim();
  assert.equal(masked, `${token.slice(0, 8)}****-****-****-****${token.slice(-4)}`);
  assert.match(await page.locator('main').textContent(), /rotate your access token every 90 days/);
  assert.equal(await page.locator('output.token').count(), 0, 'the token is not shown again');
  await eventually(async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'My Make App1' }).waitFor();
    const t = await page.locator('.token-panel dl.facts dd').nth(1).textContent();
    return t.trim() !== '-' ? true : t;
  }, 8000, 'last used of the token');
  const usedTitle = await page.locator('.token-panel dl.facts dd time').nth(1).getAttribute('title');
  assert.match(usedTitle, / UTC$/);

  // -- the list: columns, times with UTC on hover, Created By
  await page.getByRole('link', { name: 'Private Integrations', exact: true }).click();
  await page.locator('[data-screen="list"]').waitFor();
  const heads = await page.locator('table.list thead th').allTextContents();
  assert.deepEqual(heads.slice(0, 6), ['Name', 'Description', 'Created On', 'Updated At', 'Last Used', 'Created By']);
  const row = page.locator('tbody tr').first();
  assert.equal(await row.locator('td[data-label="Created By"]').textContent(), 'alice');
  assert.match(await row.locator('td[data-label="Created On"] time').getAttribute('title'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);

  // -- edit from the three-dot menu: same two steps, prefilled, Update
  await row.getByRole('button', { name: 'Actions for My Make App1' }).click();
  await page.getByRole('menuitem', { name: 'Edit' }).click();
  await page.getByRole('heading', { name: 'Edit integration' }).waitFor();
  assert.equal(await page.getByLabel('Name').inputValue(), 'My Make App1');
  assert.equal(await page.locator('#name-count').textContent(), '12 / 200');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Remove View Contacts' }).click();
  await page.getByLabel('Search the scope catalogue').fill('edit contacts');
  await page.locator('.scope[data-scope="contacts.write"]').click();
  assert.match(await page.locator('.note').textContent(), /does not generate a new token/);
  await page.getByRole('button', { name: 'Update' }).click();
  await page.locator('.flash', { hasText: 'Updated. The token did not change' }).waitFor();
  assert.equal((await page.locator('.token.masked').textContent()).trim(), masked, 'same token');

  // the same token: the new scope enforced, the removed one 403
  await expectStatus(stack, token, 'POST', 200);
  await expectStatus(stack, token, 'GET', 403);

  // -- rotate later: both tokens work; the countdowns
  await confirm(page, 'Rotate and expire this token later', /Rotate and expire this token later\?/);
  await page.locator('[data-screen="rotating"]').waitFor();
  const next1 = (await page.locator('output.token').textContent()).trim();
  assert.match(next1, TOKEN_RE);
  assert.notEqual(next1, token);
  const text = await page.locator('main').textContent();
  assert.match(text, /This token automatically becomes primary after 6 days & 23 hours\./);
  assert.match(text, /This token will automatically expire in 6 days & 23 hours\./);
  assert.ok(text.includes(masked), 'the old token, masked');
  await expectStatus(stack, token, 'POST', 200);
  await expectStatus(stack, next1, 'POST', 200);
  await noSecretsKept(page, [token, next1]);

  // the list says so
  await page.getByRole('link', { name: 'Integrations', exact: true }).click();
  await page.locator('[data-screen="list"]').waitFor();
  assert.equal((await page.locator('.pill.rotating').textContent()).trim(), 'old token expires in 6 days 23 hours');
  await page.getByRole('link', { name: 'My Make App1' }).click();
  await page.locator('[data-screen="rotating"]').waitFor();
  assert.equal(await page.locator('output.token').count(), 0, 'the new token is not shown again');

  // -- cancel rotation: the new token stops, the old one stays
  await confirm(page, 'Cancel rotation', /Cancel the rotation\?/);
  await page.locator('[data-screen="integration"]').waitFor();
  await expectStatus(stack, next1, 'POST', 401);
  await expectStatus(stack, token, 'POST', 200);

  // -- rotate later again, then expire now: the old one stops
  await confirm(page, 'Rotate and expire this token later', /later/);
  await page.locator('[data-screen="rotating"]').waitFor();
  const next2 = (await page.locator('output.token').textContent()).trim();
  await expectStatus(stack, next2, 'POST', 200);
  await confirm(page, 'Expire now', /Expire the old token now\?/);
  await page.locator('[data-screen="integration"]').waitFor();
  await expectStatus(stack, token, 'POST', 401);
  await expectStatus(stack, next2, 'POST', 200);

  // -- rotate now: the old one stops at once, the new one works
  await confirm(page, 'Rotate and expire this token now', /Rotate and expire this token now\?/);
  await page.locator('.flash', { hasText: 'Token rotated' }).waitFor();
  const next3 = (await page.locator('output.token').textContent()).trim();
  assert.match(next3, TOKEN_RE);
  await expectStatus(stack, next2, 'POST', 401);
  await expectStatus(stack, next3, 'POST', 200);

  // -- the audit of the account
  await page.getByRole('link', { name: 'Audit', exact: true }).click();
  await page.locator('[data-screen="audit"]').waitFor();
  const audit = await page.locator('[data-screen="audit"] tbody').textContent();
  for (const a of ['create', 'edit', 'rotate', 'cancel', 'expire']) assert.match(audit, new RegExp(a, 'i'), `audit has ${a}`);
  assert.match(audit, /alice/);

  // -- delete, confirmed; the token stops
  await page.getByRole('link', { name: 'Integrations', exact: true }).click();
  await page.locator('[data-screen="list"]').waitFor();
  await page.getByRole('button', { name: 'Actions for My Make App1' }).click();
  await page.getByRole('menuitem', { name: 'Delete' }).click();
  await page.locator('dialog[open]').waitFor();
  assert.match(await page.locator('dialog[open]').textContent(), /Delete My Make App1\?/);
  await page.locator('dialog[open] button[value="ok"]').click();
  await page.getByRole('heading', { name: 'Start by creating a private integration' }).waitFor();
  await expectStatus(stack, next3, 'POST', 401);

  // every answer that carried a token: Cache-Control: no-store
  assert.ok(tokenResponses.length >= 1);
  for (const r of tokenResponses) assert.equal(r.cache, 'no-store');

  assert.deepEqual(page.watch.dialogs, []);
  assert.deepEqual(page.watch.errors, []);
  await page.context().close();
});
