// The integration page: its token (masked), the 90-day advice, rotation
// (later / now, each confirmed), the two panels of a rotation with their
// countdowns, last used per token; and the token page after a create.

import { api, intPath } from '../api.js';
import { h } from '../dom.js';
import { duration } from '../format.js';
import { state, catalogue, scopeLabel, takeOnce } from '../state.js';
import { show, time, confirmDialog, tokenBox, flash, backLink } from '../ui.js';
import { link, go } from '../nav.js';
import { deleteFlow } from './list.js';
import { showApiError } from './denied.js';

const OVERLAP = '7d';

function tokenPage(acct, it, once) {
  show(h('div', { class: 'page-head' },
    h('div', {}, backLink(link.list(acct), 'Private Integrations'),
      h('h1', {}, 'Your integration is ready'))),
  h('section', { class: 'panel', 'data-screen': 'token' },
    h('h2', {}, it.name),
    h('p', {}, 'Copy the token and share it with your third-party app developer. It goes in the Authorization header: ',
      h('code', {}, 'Authorization: Bearer <token>'), '.'),
    tokenBox(once.token, 'Private integration token'),
    h('div', { class: 'warning', role: 'note' },
      h('p', {}, h('strong', {}, 'Don’t forget to copy the token: '), 'you won’t be able to see it again later.'),
      h('p', {}, 'Please make sure that you share the token with trusted parties only. Do not share it publicly.')),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn primary', onclick: () => render(acct, it.id) }, 'Done'))));
}

function tokenPanel({ title, badge, hint, token, lastUsed, created, note, noteKind, button }) {
  return h('section', { class: `panel token-panel${badge ? ` ${badge}` : ''}`, 'aria-label': `${title}${badge ? ` (${badge})` : ''}` },
    h('h2', {}, title, badge ? h('span', { class: `tag ${badge}` }, badge) : null),
    h('p', { class: 'muted' }, 'Used to make API calls'),
    token ? tokenBox(token, `${title} ${badge || ''}`.trim()) : h('p', { class: 'token masked' }, hint),
    token ? h('p', { class: 'warning' }, 'Don’t forget to copy the new token: you won’t be able to see it again later.') : null,
    h('dl', { class: 'facts' },
      h('dt', {}, 'Created'), h('dd', {}, time(created)),
      h('dt', {}, 'Last used'), h('dd', {}, time(lastUsed))),
    note ? h('p', { class: `countdown ${noteKind || ''}` }, h('span', { 'aria-hidden': 'true', class: 'glyph' }, noteKind === 'old' ? '⚠ ' : '✦ '), note) : null,
    button || null);
}

async function action(acct, id, what, body, okMsg) {
  try {
    const r = await api('POST', `${intPath(acct, id)}/${what}`, body);
    if (r && r.token) state.once = { id, token: r.token, kind: 'rotate' };
    state.flash = okMsg;
  } catch (e) {
    if (e.status === 401 || e.status === 403) { showApiError(e, acct); return; }
    state.flash = `${okMsg.split('.')[0]} failed: ${e.message}${e.retryAfter ? ` (try again in ${e.retryAfter} s)` : ''}`;
  }
  await render(acct, id);
}

async function render(acct, id) {
  const [it] = await Promise.all([api('GET', intPath(acct, id)), catalogue()]);
  const once = takeOnce(id);
  if (once && once.kind === 'create') { tokenPage(acct, it, once); return; }

  const now = Date.now();
  const tokens = it.tokens || [];
  const byRole = (r) => tokens.find((t) => t.role === r);
  const rotating = it.state === 'rotating' && it.rotation;
  const left = rotating ? duration(it.rotation.deadline - now, ' & ') : '';

  const rotateLater = async () => {
    if (await confirmDialog({
      title: 'Rotate and expire this token later?',
      body: ['A new token is issued now. The current token keeps working for 7 days, so your third-party app developer has time to switch; then it expires.',
        'You can cancel the rotation, or expire the old token early, in the meantime.'],
    })) await action(acct, id, 'rotate', { mode: 'later', overlap: OVERLAP }, 'Rotation started. Copy the new token now.');
  };
  const rotateNow = async () => {
    if (await confirmDialog({
      title: 'Rotate and expire this token now?',
      body: ['The current token stops working immediately and a new token replaces it.',
        'Do this if you believe the token has been compromised. Apps still using the old token will get 401 at once.'],
      danger: true,
    })) await action(acct, id, 'rotate', { mode: 'now' }, 'Token rotated: the old token no longer works. Copy the new token now.');
  };
  const cancelRotation = async () => {
    if (await confirmDialog({
      title: 'Cancel the rotation?',
      body: ['The new token stops working now; the old token stays the only token, with no expiry.'],
    })) await action(acct, id, 'cancel-rotation', undefined, 'Rotation cancelled. The old token is the only token again.');
  };
  const expireNow = async () => {
    if (await confirmDialog({
      title: 'Expire the old token now?',
      body: ['The old token stops working immediately; the new token becomes the only token.'],
      danger: true,
    })) await action(acct, id, 'expire-now', undefined, 'The old token expired. The new token is now primary.');
  };

  const panels = [];
  if (rotating) {
    const nx = byRole('next') || {};
    const pv = byRole('previous') || byRole('primary') || {};
    const fresh = once && once.kind === 'rotate' ? once.token : null;
    panels.push(tokenPanel({
      title: 'Access Token', badge: 'new', hint: nx.hint, token: fresh, created: nx.created_at, lastUsed: nx.last_used,
      note: `This token automatically becomes primary after ${left}.`, noteKind: 'new',
      button: h('button', { type: 'button', class: 'btn', onclick: cancelRotation }, 'Cancel rotation'),
    }));
    panels.push(tokenPanel({
      title: 'Access Token', badge: 'old', hint: pv.hint, created: pv.created_at, lastUsed: pv.last_used,
      note: `This token will automatically expire in ${left}.`, noteKind: 'old',
      button: h('button', { type: 'button', class: 'btn danger', onclick: expireNow }, 'Expire now'),
    }));
  } else {
    const pr = byRole('primary') || tokens[0] || {};
    const fresh = once && once.kind === 'rotate' ? once.token : null;
    panels.push(h('section', { class: 'panel token-panel', 'aria-label': 'Access Token' },
      h('h2', {}, 'Access Token'),
      h('p', { class: 'muted' }, 'Used to make API calls'),
      fresh ? tokenBox(fresh, 'New access token') : h('p', { class: 'token masked' }, pr.hint),
      fresh ? h('p', { class: 'warning' }, 'Don’t forget to copy the new token: you won’t be able to see it again later.') : null,
      h('dl', { class: 'facts' },
        h('dt', {}, 'Created'), h('dd', {}, time(pr.created_at)),
        h('dt', {}, 'Last used'), h('dd', {}, time(pr.last_used))),
      it.rotation_due ? h('p', { class: 'due-note', role: 'note' }, h('span', { class: 'pill due' }, 'rotation due'), ' This token is 90 days old or more: rotate it.') : null,
      h('div', { class: 'advice' },
        h('p', {}, 'It is recommended that you rotate your access token every 90 days for better account security.'),
        h('ul', {},
          h('li', {}, 'Choose “Rotate and expire this token later” to rotate the token after 7 days. This gives your third-party app developer 7 days to update the token on their end; meanwhile, the old token continues to work too.'),
          h('li', {}, 'If you believe your access token has been compromised, choose “Rotate and expire this token now”. This expires the existing token immediately and gives you a new replacement token.'))),
      h('div', { class: 'actions left' },
        h('button', { type: 'button', class: 'btn danger', onclick: rotateNow }, 'Rotate and expire this token now'),
        h('button', { type: 'button', class: 'btn primary', onclick: rotateLater }, 'Rotate and expire this token later'))));
  }

  const scopes = it.scopes || [];
  const details = h('section', { class: 'panel details', 'aria-labelledby': 'details-h' },
    h('h2', { id: 'details-h' }, 'Details'),
    h('dl', { class: 'facts wide' },
      h('dt', {}, 'Description'), h('dd', { class: 'desc' }, it.description || '-'),
      h('dt', {}, 'Scopes'), h('dd', {}, scopes.length
        ? h('ul', { class: 'chips static' }, scopes.map((s) => h('li', { class: 'chip', title: s }, scopeLabel(s))))
        : 'none'),
      h('dt', {}, 'Created On'), h('dd', {}, time(it.created_at)),
      h('dt', {}, 'Created By'), h('dd', {}, it.created_by || '-'),
      h('dt', {}, 'Updated At'), h('dd', {}, time(it.updated_at)),
      h('dt', {}, 'Last Used'), h('dd', {}, time(it.last_used)),
      h('dt', {}, 'Id'), h('dd', {}, h('code', {}, it.id))),
    h('div', { class: 'actions left' },
      h('a', { class: 'btn', href: link.edit(acct, id) }, 'Edit'),
      h('button', { type: 'button', class: 'btn danger', onclick: () => deleteFlow(acct, it, () => go(link.list(acct))) }, 'Delete')));

  show(h('div', { class: 'page-head' },
    h('div', {}, backLink(link.list(acct), 'Private Integrations'),
      h('h1', { class: 'name' }, it.name))),
  h('div', { 'data-screen': rotating ? 'rotating' : 'integration', class: 'stack' }, panels, details));
  if (state.flash) { flash(state.flash); state.flash = null; }
}

export async function integrationView(acct, id) {
  try {
    await render(acct, id);
  } catch (e) {
    showApiError(e, acct);
  }
}

