// Keyboard only: create through Tab, Enter and Space (visible focus all the
// way), the row menu with arrows and Escape, dialogs with Escape (cancel)
// and Enter (continue).  The n / 200 and n / 500 counters at their limits
// with multi-byte text, counted in code points as the CLI counts; the
// API's refusals shown next to the field they name.

'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const { start } = require('./lib/stack');
const { launch, open } = require('./lib/browser');

let stack;
let browser;

test.before(async () => {
  stack = await start({ kim: { password: 'kim-pw', accounts: ['acct-k'] } });
  browser = await launch();
});

test.after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

// What has the focus: its accessible-ish name, tag, and whether the focus
// is drawn (an outline or a box shadow).
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    const cs = getComputedStyle(el);
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      text: (el.getAttribute('aria-label') || el.textContent || el.value || '').trim(),
      visible: (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none',
    };
  });
}

// Presses Tab until the focus is on what match() accepts (at most max).
async function tabTo(page, match, max) {
  const seen = [];
  for (let i = 0; i < (max || 40); i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    seen.push(f.text || f.tag);
    if (match(f)) {
      assert.ok(f.visible, `the focus on "${f.text}" is visible`);
      return f;
    }
  }
  throw new Error(`Tab never reached it; went through: ${seen.join(' | ')}`);
}

test('create with the keyboard only', async () => {
  const page = await open(browser, stack, 'kim');
  await page.goto(stack.url('/'));
  await page.getByRole('heading', { name: 'Start by creating a private integration' }).waitFor();

  await tabTo(page, (f) => f.text === 'Create new integration');
  await page.keyboard.press('Enter');
  await page.getByLabel('Name').waitFor();
  let f = await focused(page);
  assert.equal(f.id, 'name', 'the focus starts in Name');
  await page.keyboard.type('Keyboard app');
  await page.keyboard.press('Tab');
  f = await focused(page);
  assert.equal(f.id, 'description');
  await page.keyboard.type('Typed, never clicked');
  await tabTo(page, (x) => x.text === 'Next', 4);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Scopes' }).waitFor();

  await tabTo(page, (x) => x.id === 'scope-search', 6);
  await page.keyboard.type('view contacts');
  await page.keyboard.press('Enter'); // does not submit
  assert.equal(await page.getByRole('heading', { name: 'Scopes' }).isVisible(), true);
  await tabTo(page, (x) => x.text.startsWith('View Contacts'), 3);
  await page.keyboard.press('Space');
  assert.equal(await page.locator('.scope[data-scope="contacts.readonly"]').getAttribute('aria-pressed'), 'true');
  f = await focused(page);
  assert.match(f.text, /^View Contacts/, 'the focus stays on the scope');
  assert.deepEqual((await page.locator('.chips .chip').allTextContents()).map((c) => c.trim()), ['View Contacts ×']);
  await tabTo(page, (x) => x.text === 'Create', 10);
  await page.keyboard.press('Enter');

  await page.locator('[data-screen="token"]').waitFor();
  const token = (await page.locator('output.token').textContent()).trim();
  await tabTo(page, (x) => x.text === 'Copy', 10);
  await page.keyboard.press('Enter');
  await page.getByText('Copied').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
  await tabTo(page, (x) => x.text === 'Done', 4);
  await page.keyboard.press('Enter');
  await page.locator('[data-screen="integration"]').waitFor();

  // a dialog: Escape cancels (nothing changes), Enter continues
  await tabTo(page, (x) => x.text === 'Rotate and expire this token later', 30);
  await page.keyboard.press('Enter');
  await page.locator('dialog[open]').waitFor();
  f = await focused(page);
  assert.equal(f.text, 'Continue', 'the dialog opens on Continue');
  await page.keyboard.press('Escape');
  await page.locator('dialog').waitFor({ state: 'detached' });
  f = await focused(page);
  assert.equal(f.text, 'Rotate and expire this token later', 'the focus is back on the button');
  assert.equal((await stack.admin('kim', 'GET', '/api/v1/accounts/acct-k/integrations')).json[0].state, 'active');
  await page.keyboard.press('Enter');
  await page.locator('dialog[open]').waitFor();
  await page.keyboard.press('Enter');
  await page.locator('[data-screen="rotating"]').waitFor();
  assert.equal((await stack.admin('kim', 'GET', '/api/v1/accounts/acct-k/integrations')).json[0].state, 'rotating');
  assert.equal(await stack.callApi(token, 'GET'), 200);

  // the row menu: Enter opens it on Edit, arrows move, Escape closes
  await page.goto(stack.url('/#/a/acct-k'));
  await page.locator('[data-screen="list"]').waitFor();
  await tabTo(page, (x) => x.text === 'Actions for Keyboard app', 30);
  await page.keyboard.press('Enter');
  f = await focused(page);
  assert.equal(f.text, 'Edit');
  await page.keyboard.press('ArrowDown');
  f = await focused(page);
  assert.equal(f.text, 'Delete');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('.menu').first().isHidden(), true);
  f = await focused(page);
  assert.equal(f.text, 'Actions for Keyboard app');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Edit integration' }).waitFor();

  assert.deepEqual(page.watch.errors, []);
  assert.deepEqual(page.watch.dialogs, []);
  await page.context().close();
});

test('counters: n / 200 and n / 500 in code points, at the limits, with multi-byte text', async () => {
  const page = await open(browser, stack, 'kim');
  await page.goto(stack.url('/#/a/acct-k/new'));
  const name = page.getByLabel('Name');
  const desc = page.getByLabel('Description');
  const nameCount = page.locator('#name-count');
  const descCount = page.locator('#description-count');

  // 4 characters: 1, 2, 3 and 4 bytes in UTF-8; the emoji is 2 UTF-16 units
  await name.fill('a€中😀');
  assert.equal(await nameCount.textContent(), '4 / 200');

  const name200 = `${'😀'.repeat(100)}${'中'.repeat(50)}${'é'.repeat(49)}x`;
  assert.equal([...name200].length, 200);
  await name.fill(name200);
  assert.equal(await nameCount.textContent(), '200 / 200');
  assert.equal(await page.locator('#name-error').isHidden(), true);
  await name.press('End');
  await page.keyboard.type('ß');
  assert.equal(await nameCount.textContent(), '201 / 200');
  assert.match(await page.locator('#name-error').textContent(), /At most 200 characters: this has 201/);
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  await page.getByRole('button', { name: 'Next' }).click();
  assert.equal(await page.getByRole('heading', { name: 'Basic info' }).isVisible(), true, 'Next refuses');
  await name.focus();
  await name.press('End');
  await page.keyboard.press('Backspace');
  assert.equal(await nameCount.textContent(), '200 / 200');
  assert.equal(await page.locator('#name-error').isHidden(), true);

  const desc500 = `${'🎉'.repeat(250)}${'ü'.repeat(250)}`;
  await desc.fill(desc500);
  assert.equal(await descCount.textContent(), '500 / 500');
  await desc.fill(`${desc500}😀`);
  assert.equal(await descCount.textContent(), '501 / 500');
  assert.match(await page.locator('#description-error').textContent(), /At most 500 characters: this has 501/);
  await desc.fill(desc500);
  assert.equal(await descCount.textContent(), '500 / 500');

  // at the limits exactly, the API takes it (it counts the same way)
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('.scope[data-scope="contacts.readonly"]').click();
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('[data-screen="token"]').waitFor();
  const made = (await stack.admin('kim', 'GET', '/api/v1/accounts/acct-k/integrations')).json.find((i) => i.name === name200);
  assert.ok(made, 'stored with its 200 characters');
  assert.equal(made.description, desc500);

  // the edit form counts the stored text the same way
  await page.goto(stack.url(`/#/a/acct-k/i/${made.id}/edit`));
  await page.getByRole('heading', { name: 'Edit integration' }).waitFor();
  assert.equal(await nameCount.textContent(), '200 / 200');
  assert.equal(await descCount.textContent(), '500 / 500');
  assert.deepEqual(page.watch.errors, []);
  await page.context().close();
});

test("the API's refusals are shown next to the field they name", async () => {
  const page = await open(browser, stack, 'kim');
  await page.goto(stack.url('/#/a/acct-k/new'));

  // a bidirectional control character: the client lets it through, the
  // API refuses it for "name"
  await page.getByLabel('Name').fill('pay\u202Egnp.exe');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('#scopes-error').waitFor();
  // the API's message is "scopes: must hold at least one scope" (field
  // "scopes"): shown at the scopes without the field's name
  assert.equal(await page.locator('#scopes-error').textContent(), 'Must hold at least one scope');
  await page.locator('.scope[data-scope="contacts.readonly"]').click();
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('#name-error').waitFor();
  const nameErr = await page.locator('#name-error').textContent();
  assert.match(nameErr, /invisible or bidirectional control character \(U\+202E/);
  assert.doesNotMatch(nameErr, /^name: /, "without the API's \"name: \"");
  assert.equal(await page.getByLabel('Name').getAttribute('aria-invalid'), 'true');
  assert.equal((await focused(page)).id, 'name', 'the focus goes to the field');

  // a name already taken: 409, at the name
  await page.getByLabel('Name').fill('Keyboard app');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('#name-error', { hasText: 'already has that name' }).waitFor();

  // a control character in the description: at the description
  await page.getByLabel('Name').fill('Another app');
  await page.getByLabel('Description').fill('bell\u0007');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('#description-error', { hasText: 'control character' }).waitFor();
  assert.deepEqual(page.watch.dialogs, []);
  await page.context().close();
});

test('Copy without the clipboard API falls back to a selection and execCommand', async () => {
  const page = await open(browser, stack, 'kim', { clipboard: false });
  // as on plain http from another host, where navigator.clipboard is absent
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined, configurable: true });
  });
  await page.goto(stack.url('/#/a/acct-k/new'));
  await page.getByLabel('Name').fill('Fallback copy');
  await page.getByRole('button', { name: 'Next' }).click();
  await page.locator('.scope[data-scope="contacts.readonly"]').click();
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.locator('[data-screen="token"]').waitFor();
  const token = (await page.locator('output.token').textContent()).trim();
  let copied = null;
  await page.exposeFunction('pitCopied', (t) => { copied = t; });
  await page.evaluate(() => document.addEventListener('copy', () => window.pitCopied(String(window.getSelection()))));
  await page.getByRole('button', { name: 'Copy' }).click();
  await page.locator('.copy-status').filter({ hasText: /Copied|Copy failed/ }).waitFor();
  const status = await page.locator('.copy-status').textContent();
  if (status === 'Copied') {
    assert.equal(copied, token, 'execCommand copied the token');
  } else {
    assert.equal(await page.evaluate(() => String(window.getSelection()).trim()), token, 'the token is selected for a manual copy');
  }
  assert.equal(await page.locator('textarea').count(), 0, 'the helper textarea is gone');
  assert.deepEqual(page.watch.errors, []);
  await page.context().close();
});
