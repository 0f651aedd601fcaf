// Who may do what through the console: an admin of another account and a
// denied admin see why, and cannot see or do anything (not through the
// screens, not with the page's own fetch); an admin of two accounts
// switches between them; platform staff (--all-accounts) open any account.  The
// security headers of the console's files; no file outside the list.

'use strict';

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const net = require('net');
const path = require('path');
const { execFile, spawn } = require('child_process');
const os = require('os');
const { start, top, freePort } = require('./lib/stack');
const { launch, open } = require('./lib/browser');

let stack;
let browser;
let aliceId;

test.before(async () => {
  stack = await start({
    alice: { password: 'alice-pw', accounts: ['acct-a'] },
    bob: { password: 'bob-pw', accounts: ['acct-b'] },
    dave: { password: 'dave-pw', accounts: ['acct-a'], deny: true },
    carol: { password: 'carol-pw', accounts: ['acct-a', 'acct-b'] },
    staff: { password: 'staff-pw', accounts: 'all' },
  });
  browser = await launch();
  const r = await stack.admin('alice', 'POST', '/api/v1/accounts/acct-a/integrations',
    { name: 'Alice secret app', description: 'of account A', scopes: ['contacts.readonly'] });
  assert.equal(r.status, 201);
  aliceId = r.json.id;
  const b = await stack.admin('bob', 'POST', '/api/v1/accounts/acct-b/integrations',
    { name: 'Bob app', description: 'of account B', scopes: ['contacts.readonly'] });
  assert.equal(b.status, 201);
});

test.after(async () => {
  if (browser) await browser.close();
  if (stack) await stack.stop();
});

async function state() {
  return (await stack.admin('alice', 'GET', `/api/v1/accounts/acct-a/integrations/${aliceId}`)).json;
}

// The page's own fetch, as a script injected into the console would.
function pageFetch(page, method, p, body) {
  return page.evaluate(async ([m, u, b]) => {
    const r = await fetch(u, { method: m, headers: { 'Content-Type': 'application/json' }, body: b === null ? undefined : JSON.stringify(b) });
    return r.status;
  }, [method, p, body === undefined ? null : body]);
}

test('an admin of another account sees why, and cannot see or do anything', async () => {
  const before = await state();
  const page = await open(browser, stack, 'bob');
  await page.goto(stack.url('/'));
  await page.locator('[data-screen="list"]').waitFor();
  assert.match(page.url(), /#\/a\/acct-b$/);
  assert.doesNotMatch(await page.locator('main').textContent(), /Alice secret app/);

  for (const hash of ['#/a/acct-a', '#/a/acct-a/new', `#/a/acct-a/i/${aliceId}`, `#/a/acct-a/i/${aliceId}/edit`, '#/a/acct-a/audit']) {
    await page.goto(stack.url(`/${hash}`));
    await page.locator('[data-screen="not-admin"]').waitFor();
    const text = await page.locator('main').textContent();
    assert.match(text, /You are not an admin of account acct-a/);
    assert.doesNotMatch(text, /Alice secret app|of account A/);
    assert.equal(await page.locator('main button, main form, main table').count(), 0, `${hash}: no buttons that would fail`);
  }
  // A's id under B's path: not found, as if it did not exist
  await page.goto(stack.url(`/#/a/acct-b/i/${aliceId}`));
  await page.getByRole('heading', { name: 'Not found' }).waitFor();
  assert.doesNotMatch(await page.locator('main').textContent(), /Alice secret app/);

  // and the API says no to the page's own requests
  const base = `/api/v1/accounts/acct-a/integrations/${aliceId}`;
  assert.equal(await pageFetch(page, 'GET', base), 403);
  assert.equal(await pageFetch(page, 'PATCH', base, { name: 'owned' }), 403);
  assert.equal(await pageFetch(page, 'POST', `${base}/rotate`, { mode: 'now' }), 403);
  assert.equal(await pageFetch(page, 'DELETE', base), 403);
  assert.equal(await pageFetch(page, 'GET', '/api/v1/accounts/acct-a/audit'), 403);
  assert.equal(await pageFetch(page, 'GET', `/api/v1/accounts/acct-b/integrations/${aliceId}`), 404);
  assert.deepEqual(await state(), before, 'nothing changed');
  assert.deepEqual(page.watch.dialogs, []);
  assert.deepEqual(page.watch.errors, []);
  await page.context().close();
});

test('a denied admin sees why, and cannot see or do anything', async () => {
  const before = await state();
  const page = await open(browser, stack, 'dave');
  for (const hash of ['', '#/a/acct-a', '#/a/acct-a/new', `#/a/acct-a/i/${aliceId}`, '#/a/acct-a/audit']) {
    await page.goto(stack.url(`/${hash}`));
    await page.locator('[data-screen="denied"]').waitFor();
    const text = await page.locator('main').textContent();
    assert.match(text, /Private Integrations are not allowed for you/);
    assert.match(text, /pitctl admin allow dave/);
    assert.doesNotMatch(text, /Alice secret app/);
    assert.equal(await page.locator('main button, main form, main table, #account-nav a').count(), 0);
  }
  const base = `/api/v1/accounts/acct-a/integrations/${aliceId}`;
  assert.equal(await pageFetch(page, 'GET', '/api/v1/accounts/acct-a/integrations'), 403);
  assert.equal(await pageFetch(page, 'GET', base), 403);
  assert.equal(await pageFetch(page, 'POST', '/api/v1/accounts/acct-a/integrations', { name: 'x', scopes: ['contacts.readonly'] }), 403);
  assert.equal(await pageFetch(page, 'POST', `${base}/rotate`, { mode: 'now' }), 403);
  assert.equal(await pageFetch(page, 'DELETE', base), 403);
  assert.deepEqual(await state(), before, 'nothing changed');
  assert.equal((await stack.admin('alice', 'GET', '/api/v1/accounts/acct-a/integrations')).json.length, 1);
  assert.deepEqual(page.watch.errors, []);
  await page.context().close();
});

test('the account switcher: an admin of two accounts, and platform staff', async () => {
  const page = await open(browser, stack, 'carol');
  await page.goto(stack.url('/'));
  await page.locator('[data-screen="list"]').waitFor();
  const sel = page.getByLabel('Account', { exact: true });
  assert.deepEqual(await sel.locator('option').allTextContents(), ['acct-a', 'acct-b']);
  assert.match(await page.locator('tbody').textContent(), /Alice secret app/);
  await sel.selectOption('acct-b');
  await page.waitForFunction(() => /Bob app/.test(document.querySelector('main').textContent));
  assert.match(page.url(), /#\/a\/acct-b$/);
  assert.doesNotMatch(await page.locator('tbody').textContent(), /Alice secret app/);
  await page.context().close();

  const staff = await open(browser, stack, 'staff');
  await staff.goto(stack.url('/'));
  await staff.getByRole('heading', { name: 'Choose an account' }).waitFor();
  await staff.getByLabel('Account', { exact: true }).fill('acct-b');
  await staff.getByRole('button', { name: 'Open' }).click();
  await staff.waitForFunction(() => /Bob app/.test(document.querySelector('main').textContent));
  assert.equal(await staff.locator('td[data-label="Created By"]').first().textContent(), 'bob');
  assert.deepEqual(staff.watch.errors, []);
  await staff.context().close();
});

test('nobody signed in: nginx asks for a password, the API answers 401', async () => {
  assert.equal((await fetch(stack.url('/'))).status, 401);
  assert.equal((await fetch(stack.url('/api/v1/me'))).status, 401);
  const wrong = await fetch(stack.url('/'), { headers: { Authorization: `Basic ${Buffer.from('alice:nope').toString('base64')}` } });
  assert.equal(wrong.status, 401);
});

test("the console's files: security headers, types, no-store", async () => {
  const want = {
    '/': 'text/html; charset=utf-8',
    '/index.html': 'text/html; charset=utf-8',
    '/app.css': 'text/css; charset=utf-8',
    '/js/app.js': 'text/javascript; charset=utf-8',
    '/js/views/integration.js': 'text/javascript; charset=utf-8',
    '/favicon.svg': 'image/svg+xml',
  };
  for (const [p, type] of Object.entries(want)) {
    const r = await stack.admin('alice', 'GET', p);
    assert.equal(r.status, 200, p);
    const hd = (n) => r.headers.get(n);
    assert.equal(hd('content-type'), type, p);
    const csp = hd('content-security-policy');
    assert.match(csp, /(^|; )default-src 'self'(;|$)/, p);
    assert.match(csp, /frame-ancestors 'none'/, p);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/, p);
    assert.equal(hd('x-content-type-options'), 'nosniff', p);
    assert.equal(hd('referrer-policy'), 'no-referrer', p);
    assert.equal(hd('cache-control'), 'no-store', p);
  }
  // every API answer: no-store (tokens are in some)
  for (const p of ['/api/v1/me', '/api/v1/scopes', '/api/v1/accounts/acct-a/integrations', `/api/v1/accounts/acct-a/integrations/${aliceId}`]) {
    const r = await stack.admin('alice', 'GET', p);
    assert.equal(r.headers.get('cache-control'), 'no-store', p);
  }
  const made = await stack.admin('alice', 'POST', '/api/v1/accounts/acct-a/integrations', { name: 'headers', scopes: ['contacts.readonly'] });
  assert.equal(made.status, 201);
  assert.equal(made.headers.get('cache-control'), 'no-store');
  assert.equal((await stack.admin('alice', 'DELETE', `/api/v1/accounts/acct-a/integrations/${made.json.id}`)).status, 204);
  // a change from another origin (a page elsewhere, same credentials)
  const csrf = await fetch(stack.url('/api/v1/accounts/acct-a/integrations'), {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from('alice:alice-pw').toString('base64')}`, 'Content-Type': 'application/json', Origin: 'http://evil.example' },
    body: JSON.stringify({ name: 'csrf', scopes: ['contacts.readonly'] }),
  });
  assert.equal(csrf.status, 403);
  // HighLevel's error body: statusCode, message, error (the reason
  // phrase), then code and field
  const csrfBody = await csrf.json();
  assert.equal(csrfBody.statusCode, 403);
  assert.equal(csrfBody.error, 'Forbidden');
  assert.equal(typeof csrfBody.message, 'string');
  assert.equal(typeof csrfBody.code, 'string');
  const bad = await stack.admin('alice', 'POST', '/api/v1/accounts/acct-a/integrations', { name: ' ', scopes: ['contacts.readonly'] });
  assert.equal(bad.status, 400);
  assert.deepEqual(Object.keys(bad.json), ['statusCode', 'message', 'error', 'code', 'field']);
  assert.equal(bad.json.statusCode, 400);
  assert.equal(bad.json.error, 'Bad Request');
  assert.equal(bad.json.field, 'name');
  assert.match(bad.json.message, /^name: /);
  // the routes are under /api/v1/ only: the old /v1/ is no more
  assert.equal((await stack.admin('alice', 'GET', '/v1/me')).status, 404);
});

// One raw request straight to pitctl serve (no client normalizes the
// path): [status, body].
function raw(port, reqPath) {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    c.on('connect', () => c.write(`GET ${reqPath} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    c.on('data', (d) => { data = Buffer.concat([data, d]); });
    c.on('end', () => {
      const s = data.toString('utf8');
      const i = s.indexOf('\r\n\r\n');
      resolve([Number(s.split(' ')[1]), s.slice(i + 4)]);
    });
    c.on('error', reject);
  });
}

test('only the files listed at start-up: no path reaches another file', async () => {
  const index = fs.readFileSync(path.join(top, 'console', 'index.html'), 'utf8');
  const own = new Set();
  const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory()
    ? walk(path.join(d, e.name)) : own.add(fs.readFileSync(path.join(d, e.name), 'utf8'))));
  walk(path.join(top, 'console'));
  assert.deepEqual(await raw(stack.servePort, '/index.html'), [200, index]);
  assert.equal((await raw(stack.servePort, '/js/app.js'))[0], 200);
  assert.equal((await raw(stack.servePort, '/js/app.js?x=1'))[0], 200);
  for (const p of ['/../README.md', '/js/../../README.md', '/%2e%2e/README.md', '/js/%2e%2e/index.html',
    '/..%2fREADME.md', '/js//app.js', '/./index.html', '/index.html/', '/INDEX.HTML', '/.git/config',
    '/js/', '/js', '/../scripts/pitctl_static.c', '/%2e%2e/scripts/pitctl_static.c', '//etc/passwd',
    '/../../../../etc/passwd', '/index.html%00.js', '/js/app.js%00/../../README.md', '/ISSUE16.md', '/Makefile']) {
    const [st, body] = await raw(stack.servePort, p);
    // 404 (the API's "no such path"), or, where libmicrohttpd decodes %00
    // and the path ends at the NUL, one of the console's own files
    assert.ok(st === 404 || st === 400 || (st === 200 && own.has(body)), `${p}: ${st}`);
    assert.doesNotMatch(body, /root:|pitctl_static|^#|THE ISSUE/, p);
  }
});

test('pitctl serve --console: what it loads, and a directory that is not there', async () => {
  const pitctl = path.join(top, 'build', 'pitctl');
  const redis = `redis://127.0.0.1:${stack.redisPort}`;
  const bad = await new Promise((resolve) => {
    execFile(pitctl, ['--redis', redis, 'serve', '--listen', '127.0.0.1:0', '--console', '/nonexistent/console'],
      (err, out, errOut) => resolve({ code: err ? err.code : 0, errOut }));
  });
  assert.equal(bad.code, 1, 'a usage error (EXIT_USAGE)');
  assert.match(bad.errOut, /--console \/nonexistent\/console: not a directory/);

  // a directory with a link to a file elsewhere, a dot file, a type it
  // does not serve: only index.html is served
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pit-console-dir-'));
  try {
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>x</title>');
    fs.symlinkSync('/etc/passwd', path.join(dir, 'passwd.txt'));
    fs.symlinkSync('/etc', path.join(dir, 'etc'));
    fs.writeFileSync(path.join(dir, '.secret.txt'), 'secret');
    fs.writeFileSync(path.join(dir, 'run.sh'), 'echo');
    const port = await freePort();
    const p = spawn(pitctl, ['--redis', redis, 'serve', '--listen', `127.0.0.1:${port}`, '--console', dir], { stdio: 'ignore' });
    try {
      const end = Date.now() + 5000;
      let st = 0;
      while (Date.now() < end) {
        try { [st] = await raw(port, '/'); break; } catch (e) { await new Promise((r) => setTimeout(r, 50)); }
      }
      assert.equal(st, 200);
      for (const q of ['/passwd.txt', '/etc/passwd', '/etc/hostname', '/.secret.txt', '/run.sh']) {
        const [code, body] = await raw(port, q);
        assert.equal(code, 404, q);
        assert.doesNotMatch(body, /root:|secret|echo/, q);
      }
    } finally {
      p.kill('SIGTERM');
    }
    // --console none: no files at all
    const port2 = await freePort();
    const q = spawn(pitctl, ['--redis', redis, 'serve', '--listen', `127.0.0.1:${port2}`, '--console', 'none'], { stdio: 'ignore' });
    try {
      const end = Date.now() + 5000;
      let st = 0;
      while (Date.now() < end) {
        try { [st] = await raw(port2, '/'); break; } catch (e) { await new Promise((r) => setTimeout(r, 50)); }
      }
      assert.equal(st, 404);
    } finally {
      q.kill('SIGTERM');
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
