// The list of an account's integrations, or the empty state.

import { api, acctPath, intPath, listOf } from '../api.js';
import { h } from '../dom.js';
import { duration } from '../format.js';
import { show, time, rowMenu, confirmDialog, errorBox, flash } from '../ui.js';
import { link, go } from '../nav.js';
import { showApiError } from './denied.js';

// "old token expires in 6 days 23 hours" during a rotation, else "".
export function rotationText(it, now) {
  if (!it.rotation || it.state !== 'rotating') return '';
  return `old token expires in ${duration(it.rotation.deadline - now, ' ')}`;
}

export async function deleteFlow(acct, it, after) {
  const yes = await confirmDialog({
    title: 'Delete this integration?',
    body: [h('p', {}, 'Delete ', h('strong', {}, it.name), '? Its tokens stop working at once, and this cannot be undone.')],
    action: 'Delete',
    danger: true,
  });
  if (!yes) return false;
  try {
    await api('DELETE', intPath(acct, it.id));
  } catch (e) {
    if (e.status === 401 || e.status === 403) { showApiError(e, acct); return false; }
    flash(`Not deleted: ${e.message}`);
    return false;
  }
  after();
  flash(`Deleted "${it.name}"`);
  return true;
}

function header(acct, withButton) {
  return h('div', { class: 'page-head' },
    h('div', {},
      h('h1', {}, 'Private Integrations'),
      h('p', { class: 'muted' }, 'Account ', h('strong', {}, acct))),
    withButton ? h('a', { class: 'btn primary', href: link.create(acct) }, 'Create new integration') : null);
}

export async function listView(acct) {
  const data = await api('GET', `${acctPath(acct)}/integrations`);
  const items = listOf(data, 'integrations');
  const now = Date.now();

  if (items.length === 0) {
    show(header(acct, false),
      h('section', { class: 'panel empty', 'data-screen': 'empty' },
        h('div', { class: 'empty-art', 'aria-hidden': 'true' }, '⚙'),
        h('h2', {}, 'Start by creating a private integration'),
        h('p', {}, 'Private integrations are a simple yet secure way to integrate your account with third party apps.'),
        h('a', { class: 'btn primary', href: link.create(acct) }, 'Create new integration')));
    return;
  }

  const rows = items.map((it) => {
    const rot = rotationText(it, now);
    const state = [];
    if (rot) state.push(h('span', { class: 'pill rotating' }, rot));
    if (it.rotation_due) state.push(h('span', { class: 'pill due', title: 'The primary token is 90 days old or more: rotate it' }, 'rotation due'));
    return h('tr', { 'data-id': it.id },
      h('th', { scope: 'row', 'data-label': 'Name' },
        h('a', { href: link.one(acct, it.id), class: 'name' }, it.name),
        state.length ? h('div', { class: 'states' }, state) : null),
      h('td', { 'data-label': 'Description', class: 'desc' }, it.description || h('span', { class: 'none' }, '-')),
      h('td', { 'data-label': 'Created On' }, time(it.created_at)),
      h('td', { 'data-label': 'Updated At' }, time(it.updated_at)),
      h('td', { 'data-label': 'Last Used' }, time(it.last_used)),
      h('td', { 'data-label': 'Created By' }, it.created_by || '-'),
      h('td', { class: 'menu-cell' }, rowMenu(it.name, [
        { label: 'Edit', run: () => go(link.edit(acct, it.id)) },
        { label: 'Delete', danger: true, run: () => deleteFlow(acct, it, () => listView(acct).catch((e) => showApiError(e, acct))) },
      ])));
  });

  show(header(acct, true),
    h('section', { class: 'panel', 'data-screen': 'list' },
      h('table', { class: 'list' },
        h('caption', { class: 'sr-only' }, `Private integrations of account ${acct}`),
        h('thead', {}, h('tr', {},
          ['Name', 'Description', 'Created On', 'Updated At', 'Last Used', 'Created By'].map((c) => h('th', { scope: 'col' }, c)),
          h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
        h('tbody', {}, rows))));
}

