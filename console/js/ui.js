// Pieces the screens share: times, dialogs, the copy button, the row menu,
// messages.  Text always as text.

import { h, add, clear, uid } from './dom.js';
import { localTime, utcTime } from './format.js';

export function main() {
  return document.getElementById('main');
}

// Replaces the main area's content with nodes and moves focus to its
// first heading (so a screen reader reads where the keyboard is).
export function show(...nodes) {
  const m = clear(main());
  add(m, nodes);
  const head = m.querySelector('h1, h2');
  if (head) {
    head.setAttribute('tabindex', '-1');
    head.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
}

// A time in the browser's time zone, UTC on hover; "-" for none.
export function time(ms) {
  if (!ms) return h('span', { class: 'none', 'aria-label': 'never' }, '-');
  return h('time', { datetime: new Date(ms).toISOString(), title: utcTime(ms) },
    localTime(ms));
}

export function errorBox(err, extra) {
  return h('div', { class: 'alert', role: 'alert' },
    h('strong', {}, err.status ? `Error ${err.status}: ` : 'Error: '),
    err.message, extra || null);
}

// A modal confirmation (<dialog>): Enter continues, Escape cancels.
// Resolves to true for Continue.
export function confirmDialog({ title, body, action, danger }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg-title');
    const bodyId = uid('dlg-body');
    const ok = h('button', { type: 'submit', value: 'ok', class: danger ? 'btn danger' : 'btn primary', autofocus: true },
      action || 'Continue');
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': bodyId },
      h('form', { method: 'dialog' },
        h('h2', { id: titleId }, title),
        h('div', { id: bodyId, class: 'dialog-body' }, [body].flat().map((p) => (p instanceof Node ? p : h('p', {}, p)))),
        h('div', { class: 'actions' },
          h('button', { type: 'submit', value: 'cancel', class: 'btn' }, 'Cancel'),
          ok)));
    dlg.addEventListener('close', () => {
      const yes = dlg.returnValue === 'ok';
      dlg.remove();
      resolve(yes);
    });
    document.body.append(dlg);
    dlg.showModal();
    ok.focus();
  });
}

// Copies text: the asynchronous clipboard API, else a hidden textarea and
// execCommand('copy') (plain http, older browsers).  Resolves to true.
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (e) { /* the fallback below */ }
  const ta = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
  ta.remove();
  return ok;
}

// The token once, with Copy.  The token is only in this element's text.
export function tokenBox(token, label) {
  const out = h('output', { class: 'token', 'aria-label': label || 'Token' }, token);
  const status = h('span', { class: 'copy-status', role: 'status' });
  const btn = h('button', {
    type: 'button',
    class: 'btn primary copy',
    onclick: async () => {
      const ok = await copyText(token);
      status.textContent = ok ? 'Copied' : 'Copy failed: select the token and copy it by hand';
      if (!ok) {
        const r = document.createRange();
        r.selectNodeContents(out);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(r);
      }
    },
  }, 'Copy');
  return h('div', { class: 'token-row' }, out, btn, status);
}

// The three-dot menu of a list row: a button that opens Edit / Delete.
export function rowMenu(name, items) {
  const menuId = uid('menu');
  const btn = h('button', {
    type: 'button', class: 'btn icon kebab', 'aria-haspopup': 'menu',
    'aria-expanded': 'false', 'aria-controls': menuId,
    'aria-label': `Actions for ${name}`, title: 'Actions',
  }, '⋮');
  const menu = h('div', { class: 'menu', role: 'menu', id: menuId, hidden: true });
  const buttons = items.map((it) => h('button', {
    type: 'button', role: 'menuitem', class: it.danger ? 'danger' : '', tabindex: '-1',
    onclick: () => { close(false); it.run(); },
  }, it.label));
  add(menu, buttons);

  function open() {
    menu.hidden = false;
    btn.setAttribute('aria-expanded', 'true');
    buttons[0].focus();
    document.addEventListener('pointerdown', outside, true);
  }
  function close(refocus) {
    menu.hidden = true;
    btn.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (refocus) btn.focus();
  }
  function outside(e) {
    if (!wrap.contains(e.target)) close(false);
  }
  btn.addEventListener('click', () => (menu.hidden ? open() : close(true)));
  menu.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (e.key === 'Escape') { e.preventDefault(); close(true); }
    else if (e.key === 'ArrowDown') { e.preventDefault(); buttons[(i + 1) % buttons.length].focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); buttons[(i - 1 + buttons.length) % buttons.length].focus(); }
    else if (e.key === 'Tab') close(false);
  });
  const wrap = h('div', { class: 'menu-wrap' }, btn, menu);
  return wrap;
}

// A message at the top of the page (a status region: read out once).
export function flash(msg) {
  const el = h('div', { class: 'flash', role: 'status' }, msg);
  const m = main();
  m.prepend(el);
  setTimeout(() => el.remove(), 6000);
}

// "← text", the arrow hidden from screen readers.
export function backLink(href, text) {
  return h('a', { class: 'back', href }, h('span', { 'aria-hidden': 'true' }, '← '), text);
}
