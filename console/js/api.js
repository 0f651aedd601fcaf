// The admin API, same origin only.  A change is sent as JSON
// (Content-Type: application/json), which the API requires; the browser
// adds Origin, which the API checks.  Nothing is cached or stored.

// pitctl serve's routes: /api/v1/... (the console itself is under /)
export const API_BASE = '/api/v1';

export class ApiError extends Error {
  constructor(status, code, message, field, retryAfter, reason) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
    this.field = field || '';
    this.retryAfter = retryAfter || '';
    this.reason = reason || '';
  }
}

// The API's error body (HighLevel's form):
// {"statusCode":400,"message":"name: must contain a visible character",
//  "error":"Bad Request","code":"invalid","field":"name"}
// "error" is the reason phrase; "code" (machine-readable) and "field" (the
// member at fault, if any) are extra members.
function errorOf(res, d) {
  let message = '';
  let code = '';
  let field = '';
  let reason = '';
  if (d && typeof d === 'object') {
    message = d.message || '';
    code = d.code || '';
    field = d.field || '';
    reason = typeof d.error === 'string' ? d.error : '';
  }
  if (Array.isArray(message)) message = message.join('; ');
  if (!message) {
    message = `The server answered ${res.status} ${reason || res.statusText}`.trim();
  }
  return new ApiError(res.status, String(code), String(message), String(field),
    res.headers.get('Retry-After'), String(reason));
}

// The message shown next to the field at fault: without the "<field>: "
// the API puts first ("name: must contain ..." -> "Must contain ...").
export function fieldMessage(e) {
  let m = e.message || '';
  if (e.field && m.startsWith(`${e.field}: `)) m = m.slice(e.field.length + 2);
  return m ? m[0].toUpperCase() + m.slice(1) : m;
}

export async function api(method, path, body) {
  const init = {
    method,
    credentials: 'same-origin',
    mode: 'same-origin',
    cache: 'no-store',
    redirect: 'error',
    referrerPolicy: 'no-referrer',
    headers: { Accept: 'application/json' },
  };
  // a change always carries a JSON body ({} when it has nothing to say)
  if (body !== undefined || method === 'POST') {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  let res;
  try {
    res = await fetch(`${API_BASE}${path}`, init);
  } catch (e) {
    throw new ApiError(0, 'network', 'The admin API could not be reached.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (!res.ok) throw errorOf(res, data);
  return data;
}

const enc = encodeURIComponent;

export const acctPath = (acct) => `/accounts/${enc(acct)}`;
export const intPath = (acct, id) => `${acctPath(acct)}/integrations/${enc(id)}`;

// Lists may come bare or wrapped ({"integrations": [...]}).
export function listOf(data, key) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data[key])) return data[key];
  if (data && Array.isArray(data.items)) return data.items;
  return [];
}
