// What the console knows, in memory only: who is signed in, the scope
// catalogue, and a token that was just issued (shown once, then
// forgotten).  Nothing goes to web storage or the URL.

import { api, listOf } from './api.js';

export const state = {
  me: null,
  catalogue: null,
  // { id, token, kind: 'create' | 'rotate' } until shown
  once: null,
};

// /me in one shape whatever the API calls its fields.
export function normalizeMe(m) {
  const me = m && typeof m === 'object' ? m : {};
  const allowed = me.pi_allowed ?? me.allowed ?? me.private_integrations_allowed
    ?? (typeof me.private_integrations === 'string' ? me.private_integrations === 'allowed' : me.private_integrations)
    ?? true;
  return {
    name: String(me.name ?? me.user ?? ''),
    all: Boolean(me.all ?? me.all_accounts ?? false),
    accounts: Array.isArray(me.accounts) ? me.accounts.map(String) : [],
    allowed: allowed !== false,
    via: me.via || me.auth || '',
  };
}

export async function catalogue() {
  if (!state.catalogue) {
    const data = await api('GET', '/scopes');
    state.catalogue = listOf(data, 'scopes').map((s) => (typeof s === 'string'
      ? { name: s, label: s, access: '' }
      : { name: String(s.name), label: String(s.label || s.name), access: String(s.access || '') }));
  }
  return state.catalogue;
}

export function scopeLabel(name) {
  const s = (state.catalogue || []).find((c) => c.name === name);
  return s ? s.label : name;
}

export function mayManage(acct) {
  const me = state.me;
  if (!me || !me.allowed) return false;
  return me.all || me.accounts.includes(acct);
}

export function takeOnce(id) {
  const o = state.once;
  if (o && o.id === id) {
    state.once = null;
    return o;
  }
  return null;
}
