#!/usr/bin/env node
// Sends HTTP/3 requests from Debian's chromium, forced onto QUIC, and prints
// what came back as JSON.  Used by tests/t/http3.t; playwright-core comes
// from tests/browser/node_modules (scripts/install-deps.sh: npm ci there).
//
//   node tests/h3/h3-fetch.js SPEC.json
//
// SPEC: { "origin": "https://127.0.0.1:PORT", "spki": "<base64 SHA-256 of
//         the server certificate's SubjectPublicKeyInfo>",
//         "page": "/h3-page",
//         "requests": [ { "path": "/api/x", "headers": { "Name": "v" } } ] }
//
// Output: { "page": {status, protocol}, "results": [ { status, protocol,
//           headers: {lower-case name: value}, body } ], "chromium": version,
//           "ms": elapsed }
// protocol is the Resource Timing nextHopProtocol ("h3" over HTTP/3).
// Exit 0 when every request got an answer, 2 on a browser or network error
// (the message on stderr).

'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

const browserDir = path.join(__dirname, '..', 'browser');
const req = createRequire(path.join(browserDir, 'package.json'));
const { chromium } = req('playwright-core');

const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const origin = new URL(spec.origin);
const hostPort = `${origin.hostname}:${origin.port}`;
const exe = process.env.PIT_CHROMIUM || '/usr/bin/chromium';
const timeout = Number(spec.timeout_ms || 30000);

async function main() {
  const t0 = Date.now();
  const browser = await chromium.launch({
    executablePath: exe,
    headless: true,
    timeout,
    args: [
      '--enable-quic',
      `--origin-to-force-quic-on=${hostPort}`,
      `--ignore-certificate-errors-spki-list=${spec.spki}`,
      '--no-proxy-server',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(timeout);
    const nav = await page.goto(`${spec.origin}${spec.page || '/'}`, {
      waitUntil: 'load',
    });
    const pageProto = await page.evaluate(() => {
      const e = performance.getEntriesByType('navigation')[0];
      return e ? e.nextHopProtocol : '';
    });
    const results = await page.evaluate(async (requests) => {
      const out = [];
      for (const r of requests) {
        try {
          const res = await fetch(r.path, {
            method: r.method || 'GET',
            headers: r.headers || {},
            cache: 'no-store',
            credentials: 'omit',
          });
          const headers = {};
          res.headers.forEach((v, k) => { headers[k] = v; });
          const body = await res.text();
          const url = new URL(r.path, location.href).href;
          const entries = performance.getEntriesByName(url, 'resource');
          const e = entries[entries.length - 1];
          out.push({ status: res.status, headers, body,
                     protocol: e ? e.nextHopProtocol : '' });
        } catch (err) {
          out.push({ status: 0, error: String(err), headers: {}, body: '' });
        }
      }
      return out;
    }, spec.requests);
    const version = browser.version();
    process.stdout.write(JSON.stringify({
      page: { status: nav ? nav.status() : 0, protocol: pageProto },
      results, chromium: version, ms: Date.now() - t0,
    }) + '\n');
    return results.every((r) => r.status > 0) ? 0 : 2;
  } finally {
    await browser.close();
  }
}

main().then((rc) => { process.exitCode = rc; }, (err) => {
  process.stderr.write(`h3-fetch: ${err && err.stack || err}\n`);
  process.exitCode = 2;
});
