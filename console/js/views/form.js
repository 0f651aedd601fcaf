// Create and edit, in two steps: Basic info (name, description, counted in
// characters as the CLI counts them) and Scopes (chips and a searchable
// catalogue).  Errors the API names a field for are shown at that field.

import { api, acctPath, intPath, fieldMessage } from '../api.js';
import { h, add, clear, announce } from '../dom.js';
import { chars } from '../format.js';
import { state, catalogue } from '../state.js';
import { show, errorBox, backLink } from '../ui.js';
import { link, go } from '../nav.js';
import { showApiError } from './denied.js';

export const NAME_MAX = 200;
export const DESC_MAX = 500;

function field({ id, label, required, max, value, multiline, hint }) {
  const counter = h('span', { class: 'counter', id: `${id}-count`, 'aria-live': 'off' });
  const err = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const input = h(multiline ? 'textarea' : 'input', {
    id, name: id, autocomplete: 'off', spellcheck: 'true',
    'aria-describedby': `${id}-count ${id}-error`,
    'aria-required': required ? 'true' : null,
    rows: multiline ? 4 : null,
  });
  input.value = value || '';
  const update = () => {
    const n = chars(input.value);
    counter.textContent = `${n} / ${max}`;
    counter.classList.toggle('over', n > max);
    if (n > max) setError(`At most ${max} characters: this has ${n}.`);
    else if (err.dataset.kind === 'length') setError('');
  };
  function setError(msg, kind) {
    err.textContent = msg;
    err.hidden = !msg;
    err.dataset.kind = msg ? (kind || 'length') : '';
    input.setAttribute('aria-invalid', msg ? 'true' : 'false');
  }
  input.addEventListener('input', update);
  update();
  const wrap = h('div', { class: 'field' },
    h('div', { class: 'label-row' },
      h('label', { for: id }, label, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
      counter),
    input,
    hint ? h('p', { class: 'hint' }, hint) : null,
    err);
  return { wrap, input, setError, count: () => chars(input.value) };
}

export async function formView(acct, id) {
  const [cat, current] = await Promise.all([
    catalogue(),
    id ? api('GET', intPath(acct, id)) : Promise.resolve(null),
  ]);
  const editing = Boolean(current);
  const chosen = new Set(current ? current.scopes : []);
  let step = 1;

  const name = field({ id: 'name', label: 'Name', required: true, max: NAME_MAX, value: current && current.name });
  const desc = field({ id: 'description', label: 'Description', max: DESC_MAX, value: current && current.description, multiline: true });
  const general = h('div', { class: 'general-error' });

  // -- step tabs
  const tab1 = h('button', { type: 'button', class: 'step', onclick: () => toStep(1) }, h('span', { class: 'num' }, '1'), ' Basic info');
  const tab2 = h('button', { type: 'button', class: 'step', onclick: () => next() }, h('span', { class: 'num' }, '2'), ' Scopes');
  const steps = h('nav', { class: 'steps', 'aria-label': 'Steps' }, tab1, tab2);

  // -- step 1
  const cancelHref = editing ? link.one(acct, id) : link.list(acct);
  const step1 = h('section', { class: 'panel step-panel', 'data-screen': editing ? 'edit-basic' : 'create-basic', 'aria-labelledby': 'basic-h' },
    h('h2', { id: 'basic-h' }, 'Basic info'),
    h('p', { class: 'muted' }, 'Give your integration a unique name and description to help your team understand what it does.'),
    name.wrap, desc.wrap,
    h('div', { class: 'actions' },
      h('a', { class: 'btn', href: cancelHref }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn primary' }, 'Next')));

  // -- step 2
  const chips = h('ul', { class: 'chips', 'aria-label': 'Chosen scopes' });
  const scopeErr = h('p', { class: 'field-error', id: 'scopes-error', hidden: true });
  const search = h('input', { type: 'search', id: 'scope-search', autocomplete: 'off', placeholder: 'Search scopes', 'aria-controls': 'scope-list' });
  const list = h('ul', { class: 'scope-list', id: 'scope-list', 'aria-label': 'Scope catalogue' });
  const chosenCount = h('p', { class: 'muted', id: 'scopes-count', 'aria-live': 'polite' });

  function renderChips() {
    clear(chips);
    const names = cat.map((c) => c.name).filter((n) => chosen.has(n));
    for (const n of chosen) if (!names.includes(n)) names.push(n); // a scope the catalogue no longer has
    for (const n of names) {
      const c = cat.find((x) => x.name === n);
      const label = c ? c.label : n;
      chips.append(h('li', {}, h('button', {
        type: 'button', class: 'chip', title: n, 'aria-label': `Remove ${label}`,
        onclick: () => { chosen.delete(n); renderAll(); announce(`${label} removed`); search.focus(); },
      }, label, h('span', { class: 'x', 'aria-hidden': 'true' }, ' ×'))));
    }
    if (names.length === 0) chips.append(h('li', { class: 'muted none-chosen' }, 'No scope chosen yet.'));
    chosenCount.textContent = `${names.length} of ${cat.length} scopes chosen`;
  }
  function renderList() {
    clear(list);
    const q = search.value.trim().toLowerCase();
    const shown = cat.filter((c) => !q || c.label.toLowerCase().includes(q) || c.name.toLowerCase().includes(q));
    for (const c of shown) {
      const on = chosen.has(c.name);
      list.append(h('li', {}, h('button', {
        type: 'button', class: `scope${on ? ' on' : ''}`, 'aria-pressed': on ? 'true' : 'false', 'data-scope': c.name,
        onclick: (e) => {
          if (chosen.has(c.name)) chosen.delete(c.name); else chosen.add(c.name);
          const keep = e.currentTarget.dataset.scope;
          renderAll();
          const again = list.querySelector(`[data-scope="${CSS.escape(keep)}"]`);
          if (again) again.focus();
          announce(`${c.label} ${chosen.has(c.name) ? 'chosen' : 'removed'}`);
        },
      }, h('span', { class: 'scope-label' }, c.label), h('span', { class: 'scope-name' }, c.name),
      h('span', { class: 'check', 'aria-hidden': 'true' }, on ? '✓' : ''))));
    }
    if (shown.length === 0) list.append(h('li', { class: 'muted' }, 'No scope matches.'));
  }
  function renderAll() { renderChips(); renderList(); }
  search.addEventListener('input', renderList);
  search.addEventListener('keydown', (e) => { if (e.key === 'Enter') e.preventDefault(); });

  const submitBtn = h('button', { type: 'submit', class: 'btn primary' }, editing ? 'Update' : 'Create');
  const step2 = h('section', { class: 'panel step-panel', 'data-screen': editing ? 'edit-scopes' : 'create-scopes', 'aria-labelledby': 'scopes-h', hidden: true },
    h('h2', { id: 'scopes-h' }, 'Scopes'),
    h('p', { class: 'muted' }, 'Scopes determine the permissions that the third party app has to access your account data or perform actions. It is recommended to grant as few scopes as necessary for better account security.'),
    chips, chosenCount, scopeErr,
    h('div', { class: 'field' }, h('label', { for: 'scope-search' }, 'Search the scope catalogue'), search),
    list,
    editing ? h('p', { class: 'note' }, 'Note: updating the integration does not generate a new token. The existing token continues to work.') : null,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn', onclick: () => toStep(1) }, 'Back'),
      h('a', { class: 'btn', href: cancelHref }, 'Cancel'),
      submitBtn));

  function toStep(n) {
    step = n;
    step1.hidden = n !== 1;
    step2.hidden = n !== 2;
    tab1.setAttribute('aria-current', n === 1 ? 'step' : 'false');
    tab2.setAttribute('aria-current', n === 2 ? 'step' : 'false');
    const head = (n === 1 ? step1 : step2).querySelector('h2');
    head.setAttribute('tabindex', '-1');
    head.focus();
  }

  function checkBasic() {
    let ok = true;
    const n = name.count();
    if (name.input.value.trim() === '') { name.setError('A name is required.', 'required'); ok = false; }
    else if (n > NAME_MAX) { name.setError(`At most ${NAME_MAX} characters: this has ${n}.`); ok = false; }
    else name.setError('');
    const d = desc.count();
    if (d > DESC_MAX) { desc.setError(`At most ${DESC_MAX} characters: this has ${d}.`); ok = false; }
    else desc.setError('');
    if (!ok) (name.input.getAttribute('aria-invalid') === 'true' ? name.input : desc.input).focus();
    return ok;
  }
  function next() { if (step === 2 || checkBasic()) toStep(2); }

  function showServerError(e) {
    clear(general);
    const f = (e.field || '').toLowerCase();
    if (f === 'name' && step1) { toStep(1); name.setError(fieldMessage(e), 'server'); name.input.focus(); return; }
    if (f === 'description') { toStep(1); desc.setError(fieldMessage(e), 'server'); desc.input.focus(); return; }
    if (f.startsWith('scope')) { scopeErr.textContent = fieldMessage(e); scopeErr.hidden = false; scopeErr.focus(); return; }
    add(general, errorBox(e, e.retryAfter ? ` Try again in ${e.retryAfter} s.` : null));
    general.scrollIntoView({ block: 'nearest' });
  }

  async function submit() {
    if (!checkBasic()) { toStep(1); return; }
    scopeErr.hidden = true;
    clear(general);
    const body = { name: name.input.value, description: desc.input.value, scopes: [...chosen] };
    submitBtn.disabled = true;
    try {
      if (editing) {
        await api('PATCH', intPath(acct, id), body);
        state.flash = 'Updated. The token did not change: it continues to work.';
        go(link.one(acct, id));
      } else {
        const made = await api('POST', `${acctPath(acct)}/integrations`, body);
        state.once = { id: made.id, token: made.token, kind: 'create', name: made.name };
        go(link.one(acct, made.id));
      }
    } catch (e) {
      submitBtn.disabled = false;
      if (e.status === 401 || (e.status === 403 && !e.field)) { showApiError(e, acct); return; }
      showServerError(e);
    }
  }

  scopeErr.setAttribute('tabindex', '-1');
  const form = h('form', {
    class: 'integration-form', novalidate: true,
    onsubmit: (e) => { e.preventDefault(); if (step === 1) next(); else submit(); },
  }, step1, step2);

  renderAll();
  show(h('div', { class: 'page-head' },
    h('div', {},
      editing ? backLink(link.one(acct, id), current.name) : backLink(link.list(acct), 'Private Integrations'),
      h('h1', {}, editing ? 'Edit integration' : 'Create new integration'))),
  steps, general, form);
  tab1.setAttribute('aria-current', 'step');
  name.input.focus();
}
