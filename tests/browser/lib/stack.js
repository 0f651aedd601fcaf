// The console's test stack, all on loopback ports chosen at run time:
// a real redis-server, `pitctl serve --console console/` and a real nginx
// in front (the admin API at location /api/ and the console at location /,
// both with auth_basic with an htpasswd made by `openssl passwd -apr1`,
// X-Remote-User from $remote_user, the identity believed from 127.0.0.2
// only), which also enforces pit_auth on an upstream (locations /contacts/
// and /locations/) so the tests can use the tokens the console shows.
// start() returns the stack; stop() ends every process it started (by pid)
// and removes its directory.
//
//   PIT_KEEP=1 keeps the directory (logs) for a look afterwards.

'use strict';

const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const top = path.resolve(__dirname, '..', '..', '..');
const pitctlBin = process.env.PIT_PITCTL || path.join(top, 'build', 'pitctl');
const moduleSo = process.env.PIT_MODULE || path.join(top, 'build', 'ngx_http_pit_auth_module.so');
const nginxBin = process.env.PIT_NGINX || '/usr/sbin/nginx';
const redisBin = process.env.PIT_REDIS_SERVER || 'redis-server';

// A free TCP port on 127.0.0.1: bind port 0, read it, close.
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

async function waitPort(port, ms, what) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.on('connect', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(30);
  }
  throw new Error(`${what}: nothing listening on 127.0.0.1:${port} after ${ms} ms`);
}

function nginxConf(s) {
  return `
load_module ${moduleSo};
pid ${s.dir}/nginx.pid;
error_log ${s.dir}/nginx-error.log info;
worker_processes 1;
daemon off;
${process.getuid && process.getuid() === 0 ? 'user nobody nogroup;' : ''}
events { worker_connections 256; }
http {
    access_log ${s.dir}/nginx-access.log;
    client_body_temp_path ${s.dir}/tmp/body;
    proxy_temp_path ${s.dir}/tmp/proxy;
    fastcgi_temp_path ${s.dir}/tmp/fastcgi;
    uwsgi_temp_path ${s.dir}/tmp/uwsgi;
    scgi_temp_path ${s.dir}/tmp/scgi;

    pit_auth_redis 127.0.0.1:${s.redisPort};
    pit_auth_redis_timeout 250ms 500ms;
    pit_auth_cache zone=pit_auth:1m;
    pit_auth_last_used on;

    map $request_method $contacts_scope {
        GET     contacts.readonly;
        HEAD    contacts.readonly;
        default contacts.write;
    }
    # an admin token (Bearer pat-...) passes without auth_basic; a person
    # signs in with auth_basic, whose Authorization never reaches pitctl
    map $http_authorization $pit_admin_realm {
        "~*^bearer[ \\t]+pat-"  off;
        default                "pit-auth console";
    }
    map $http_authorization $pit_admin_bearer {
        "~*^bearer[ \\t]+pat-"  $http_authorization;
        default                "";
    }
    upstream pitctl_serve {
        server 127.0.0.1:${s.servePort};
    }

    server {
        listen 127.0.0.1:${s.port};

        # the admin API (pitctl serve's /api/v1/...), behind auth_basic
        location /api/ {
            auth_basic $pit_admin_realm;
            auth_basic_user_file ${s.dir}/htpasswd;
            proxy_set_header X-Remote-User $remote_user;
            proxy_set_header Authorization $pit_admin_bearer;
            proxy_set_header Host $http_host;
            proxy_bind 127.0.0.2;
            proxy_pass http://pitctl_serve;
        }

        # the console (pitctl serve --console), behind the same auth_basic
        location / {
            auth_basic $pit_admin_realm;
            auth_basic_user_file ${s.dir}/htpasswd;
            proxy_set_header X-Remote-User $remote_user;
            proxy_set_header Authorization $pit_admin_bearer;
            proxy_set_header Host $http_host;
            proxy_bind 127.0.0.2;
            proxy_pass http://pitctl_serve;
        }

        # the "API" the integrations' tokens open
        location /contacts/ {
            pit_auth on;
            pit_auth_scope $contacts_scope;
            proxy_pass http://127.0.0.1:${s.upPort};
        }
        location /locations/ {
            pit_auth on;
            pit_auth_scope locations.readonly;
            proxy_pass http://127.0.0.1:${s.upPort};
        }
    }

    server {
        listen 127.0.0.1:${s.upPort};
        default_type application/json;
        return 200 '{"upstream_saw":{"integration":"$http_x_pit_integration_id","scopes":"$http_x_pit_scopes"}}\\n';
    }
}
`;
}

class Stack {
  constructor() {
    this.procs = [];
    this.users = {};
  }

  pitctl(...args) {
    return execFileSync(pitctlBin, ['--redis', `redis://127.0.0.1:${this.redisPort}`, '--as', 'root', ...args],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  pitctlJson(...args) { return JSON.parse(this.pitctl('--json', ...args)); }

  spawn(name, cmd, args) {
    const out = fs.openSync(path.join(this.dir, `${name}.log`), 'a');
    const p = spawn(cmd, args, { stdio: ['ignore', out, out], detached: false });
    fs.closeSync(out);
    p.pitName = name;
    p.exited = new Promise((resolve) => p.on('exit', (code, sig) => resolve({ code, sig })));
    this.procs.push(p);
    return p;
  }

  log(name) {
    try { return fs.readFileSync(path.join(this.dir, name), 'utf8'); } catch (e) { return ''; }
  }

  url(p) { return `http://127.0.0.1:${this.port}${p || '/'}`; }

  // Calls the upstream through nginx's pit_auth with an integration token.
  async callApi(token, method, p) {
    const res = await fetch(this.url(p || '/contacts/x'), {
      method: method || 'GET',
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    await res.text();
    return res.status;
  }

  // The admin API through nginx as user (auth_basic).
  async admin(user, method, p, body) {
    const headers = { Authorization: `Basic ${Buffer.from(`${user}:${this.users[user]}`).toString('base64')}` };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(this.url(p), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch (e) { json = null; }
    return { status: res.status, json, headers: res.headers, text };
  }

  async stop() {
    for (const p of this.procs.slice().reverse()) {
      if (p.exitCode === null && p.signalCode === null) {
        p.kill(p.pitName === 'nginx' ? 'SIGQUIT' : 'SIGTERM');
        const done = await Promise.race([p.exited, sleep(5000).then(() => null)]);
        if (!done) { p.kill('SIGKILL'); await p.exited; }
      }
    }
    this.procs = [];
    if (this.dir && !process.env.PIT_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// users: { name: { password, accounts: [...] | 'all', deny: bool } }
async function start(users) {
  const s = new Stack();
  s.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pit-console-'));
  fs.chmodSync(s.dir, 0o755);
  for (const d of ['tmp', 'tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi', 'redis']) {
    fs.mkdirSync(path.join(s.dir, d), { recursive: true });
  }
  try {
    s.redisPort = await freePort();
    s.spawn('redis', redisBin, ['--port', String(s.redisPort), '--bind', '127.0.0.1', '--save', '',
      '--appendonly', 'no', '--dir', path.join(s.dir, 'redis')]);
    await waitPort(s.redisPort, 10000, 'redis-server');

    let ht = '';
    for (const [name, u] of Object.entries(users)) {
      const args = ['admin', 'add', name];
      if (u.accounts === 'all') args.push('--all-accounts');
      else for (const a of u.accounts) args.push('--account', a);
      if (u.deny) args.push('--deny');
      s.pitctl(...args);
      s.users[name] = u.password;
      const hash = execFileSync('openssl', ['passwd', '-apr1', u.password], { encoding: 'utf8' }).trim();
      ht += `${name}:${hash}\n`;
    }
    fs.writeFileSync(path.join(s.dir, 'htpasswd'), ht, { mode: 0o644 });

    s.servePort = await freePort();
    s.spawn('serve', pitctlBin, ['--redis', `redis://127.0.0.1:${s.redisPort}`, 'serve',
      '--listen', `127.0.0.1:${s.servePort}`, '--trusted-proxy', '127.0.0.2',
      '--console', path.join(top, 'console'), '--access-log', path.join(s.dir, 'serve-access.log')]);
    await waitPort(s.servePort, 10000, 'pitctl serve');

    s.port = await freePort();
    s.upPort = await freePort();
    fs.writeFileSync(path.join(s.dir, 'nginx.conf'), nginxConf(s));
    s.spawn('nginx', nginxBin, ['-p', s.dir, '-c', path.join(s.dir, 'nginx.conf')]);
    await waitPort(s.port, 10000, 'nginx');
    await waitPort(s.upPort, 10000, 'nginx upstream');
  } catch (e) {
    const logs = ['redis.log', 'serve.log', 'nginx.log', 'nginx-error.log'].map((f) => `--- ${f}\n${s.log(f)}`).join('\n');
    await s.stop();
    throw new Error(`${e.message}\n${logs}`);
  }
  return s;
}

module.exports = { start, freePort, top };
