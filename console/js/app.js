// The console: boot (who am I), the router (location.hash), the account
// switcher.  Routes, all under #/:
//   #/a/ACCOUNT                     list (or the empty state)
//   #/a/ACCOUNT/new                 create, two steps
//   #/a/ACCOUNT/i/ID                the integration page
//   #/a/ACCOUNT/i/ID/edit           edit, two steps
//   #/a/ACCOUNT/audit               the account's audit entries
// Account ids and integration ids only: a token never enters the URL.

import { api } from './api.js';
import { h, clear } from './dom.js';
import { state, normalizeMe, mayManage } from './state.js';
import { show, errorBox } from './ui.js';
import { go, link, setRouter } from './nav.js';
import { listView } from './views/list.js';
import { formView } from './views/form.js';
import { integrationView } from './views/integration.js';
import { auditView } from './views/audit.js';
import { deniedView, notAdminView, signedOutView, showApiError } from './views/denied.js';

function parse(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').map((p) => {
    try { return decodeURIComponent(p); } catch (e) { return ''; }
  });
  if (parts[0] !== 'a' || !parts[1]) return { view: 'home' };
  const acct = parts[1];
  if (parts.length === 2) return { view: 'list', acct };
  if (parts[2] === 'new' && parts.length === 3) return { view: 'create', acct };
  if (parts[2] === 'audit' && parts.length === 3) return { view: 'audit', acct };
  if (parts[2] === 'i' && parts[3]) {
    if (parts.length === 4) return { view: 'one', acct, id: parts[3] };
    if (parts[4] === 'edit' && parts.length === 5) return { view: 'edit', acct, id: parts[3] };
  }
  return { view: 'unknown', acct };
}

function accountNav(current) {
  const nav = clear(document.getElementById('account-nav'));
  const me = state.me;
  if (!me || !me.allowed) return;
  if (me.all) {
    const input = h('input', { id: 'account-input', name: 'account', value: current || '', autocomplete: 'off', spellcheck: 'false', required: true });
    nav.append(h('form', {
      class: 'switcher',
      onsubmit: (e) => {
        e.preventDefault();
        const v = input.value.trim();
        if (v) go(link.list(v));
      },
    }, h('label', { for: 'account-input' }, 'Account'), input,
    h('button', { type: 'submit', class: 'btn' }, 'Open')));
  } else if (me.accounts.length > 1) {
    const sel = h('select', {
      id: 'account-select', name: 'account',
      onchange: () => go(link.list(sel.value)),
    }, me.accounts.map((a) => h('option', { value: a, selected: a === current }, a)));
    nav.append(h('div', { class: 'switcher' }, h('label', { for: 'account-select' }, 'Account'), sel));
  } else if (me.accounts.length === 1) {
    nav.append(h('span', { class: 'switcher' }, h('span', { class: 'muted' }, 'Account '), h('strong', {}, me.accounts[0])));
  }
  if (current && mayManage(current)) {
    nav.append(h('a', { href: link.list(current), class: 'navlink' }, 'Integrations'),
      h('a', { href: link.audit(current), class: 'navlink' }, 'Audit'));
  }
}

async function route() {
  const r = parse(location.hash);
  const me = state.me;
  if (!me.allowed) {
    accountNav(null);
    deniedView();
    return;
  }
  if (r.view === 'home') {
    const first = me.accounts[0];
    if (first) { location.replace(link.list(first)); return; }
    accountNav(null);
    show(me.all
      ? h('section', { class: 'panel empty', 'data-screen': 'choose' },
        h('h1', {}, 'Choose an account'),
        h('p', {}, 'You manage the private integrations of every account: type an account id above and press Open.'))
      : h('section', { class: 'panel notice', 'data-screen': 'no-account' },
        h('h1', {}, 'You do not manage any account yet'),
        h('p', {}, 'An administrator of this platform can give you accounts with ',
          h('code', {}, `pitctl admin edit ${me.name} --account ID`), '.')));
    return;
  }
  accountNav(r.acct);
  if (!mayManage(r.acct)) { notAdminView(r.acct); return; }
  try {
    switch (r.view) {
      case 'list': await listView(r.acct); break;
      case 'create': await formView(r.acct, null); break;
      case 'one': await integrationView(r.acct, r.id); break;
      case 'edit': await formView(r.acct, r.id); break;
      case 'audit': await auditView(r.acct); break;
      default:
        show(h('section', { class: 'panel' }, h('h1', {}, 'Not found'),
          h('p', {}, h('a', { href: link.list(r.acct) }, 'Back to the integrations'))));
    }
  } catch (e) {
    showApiError(e, r.acct);
  }
}

async function boot() {
  try {
    state.me = normalizeMe(await api('GET', '/me'));
  } catch (e) {
    if (e.status === 401) signedOutView(e);
    else show(h('section', { class: 'panel' }, h('h1', {}, 'The console could not start'), errorBox(e)));
    return;
  }
  const who = document.getElementById('who');
  who.textContent = '';
  who.append(h('span', { class: 'muted' }, 'Signed in as '), h('strong', {}, state.me.name || '?'));
  setRouter(route);
  window.addEventListener('hashchange', route);
  await route();
  document.body.dataset.ready = '1';
}

boot();
