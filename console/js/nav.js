// Links between the screens (hash routes; ids only, never a token).

export const link = {
  list: (a) => `#/a/${encodeURIComponent(a)}`,
  create: (a) => `#/a/${encodeURIComponent(a)}/new`,
  one: (a, id) => `#/a/${encodeURIComponent(a)}/i/${encodeURIComponent(id)}`,
  edit: (a, id) => `#/a/${encodeURIComponent(a)}/i/${encodeURIComponent(id)}/edit`,
  audit: (a) => `#/a/${encodeURIComponent(a)}/audit`,
};

let router = () => {};
export function setRouter(fn) { router = fn; }

// Goes to hash; renders again when already there.
export function go(hash) {
  if (location.hash === hash) router();
  else location.hash = hash;
}
