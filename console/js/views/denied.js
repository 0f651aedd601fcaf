// Why an admin cannot do something: said in words, with no buttons that
// would only fail.

import { h } from '../dom.js';
import { state } from '../state.js';
import { show, errorBox } from '../ui.js';
import { link } from '../nav.js';

export function deniedView() {
  const name = state.me ? state.me.name : '';
  show(h('section', { class: 'panel notice', 'data-screen': 'denied' },
    h('h1', {}, 'Private Integrations are not allowed for you'),
    h('p', {}, 'Your user ', h('strong', {}, name),
      ' does not have the Private Integrations permission, so you cannot see, create, edit, rotate or delete private integrations.'),
    h('p', {}, 'By default every account admin has it; an administrator of this platform can allow it again with ',
      h('code', {}, `pitctl admin allow ${name}`), '.')));
}

export function notAdminView(acct, err) {
  const me = state.me || { accounts: [] };
  show(h('section', { class: 'panel notice', 'data-screen': 'not-admin' },
    h('h1', {}, 'You do not manage this account'),
    h('p', {}, 'You are not an admin of account ', h('strong', {}, acct),
      ', so its private integrations are not shown to you.'),
    err ? h('p', { class: 'muted' }, 'The server said: ', err.message) : null,
    me.accounts.length ? h('p', {}, 'Your accounts: ',
      me.accounts.map((a, i) => [i ? ', ' : '', h('a', { href: link.list(a) }, a)])) : null));
}

export function signedOutView(err) {
  show(h('section', { class: 'panel notice', 'data-screen': 'signed-out' },
    h('h1', {}, 'Not signed in'),
    h('p', {}, 'The admin API does not know who you are. Sign in through the front proxy, then reload this page.'),
    err ? h('p', { class: 'muted' }, 'The server said: ', err.message) : null));
}

export function showApiError(e, acct) {
  if (e.status === 401) { signedOutView(e); return; }
  if (e.status === 403) { notAdminView(acct, e); return; }
  show(h('section', { class: 'panel' },
    h('h1', {}, e.status === 404 ? 'Not found' : 'Something went wrong'),
    errorBox(e),
    acct ? h('p', {}, h('a', { href: link.list(acct) }, 'Back to the integrations')) : null));
}
