// The audit entries of one account, newest first.

import { api, acctPath, listOf } from '../api.js';
import { h } from '../dom.js';
import { show, time, backLink } from '../ui.js';
import { link } from '../nav.js';

export async function auditView(acct) {
  const data = await api('GET', `${acctPath(acct)}/audit`);
  const entries = listOf(data, 'entries').slice().sort((a, b) => (b.at || 0) - (a.at || 0));
  const head = h('div', { class: 'page-head' },
    h('div', {}, backLink(link.list(acct), 'Private Integrations'),
      h('h1', {}, 'Audit'),
      h('p', { class: 'muted' }, 'Every change to the private integrations of account ', h('strong', {}, acct), ', with who made it.')));
  if (entries.length === 0) {
    show(head, h('section', { class: 'panel empty', 'data-screen': 'audit' }, h('p', {}, 'Nothing has happened in this account yet.')));
    return;
  }
  show(head, h('section', { class: 'panel', 'data-screen': 'audit' },
    h('table', { class: 'list audit' },
      h('caption', { class: 'sr-only' }, `Audit entries of account ${acct}`),
      h('thead', {}, h('tr', {}, ['When', 'Who', 'Action', 'Integration', 'Detail'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, entries.map((e) => h('tr', {},
        h('td', { 'data-label': 'When' }, time(e.at)),
        h('td', { 'data-label': 'Who' }, e.who || '-', e.peer ? h('span', { class: 'muted small' }, ` from ${e.peer}`) : null),
        h('td', { 'data-label': 'Action' }, h('span', { class: 'pill' }, e.action || '-')),
        h('td', { 'data-label': 'Integration' }, e.iid
          ? h('a', { href: link.one(acct, e.iid) }, e.name || e.iid)
          : (e.name || '-')),
        h('td', { 'data-label': 'Detail', class: 'desc' }, e.detail || '')))))));
}
