// Counting, times and durations.

// Characters as the CLI counts them: Unicode code points, not UTF-16 units
// and not bytes.
export function chars(s) {
  let n = 0;
  for (const _ of String(s)) n += 1; // eslint-disable-line no-unused-vars
  return n;
}

const dateFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric',
  hour: '2-digit', minute: '2-digit',
});

// "Jul 10, 2024, 04:59 PM" in the browser's time zone.
export function localTime(ms) {
  return dateFmt.format(new Date(ms));
}

// "2024-07-10 16:59:00 UTC", for the title attribute.
export function utcTime(ms) {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function unit(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

// A positive duration in ms as "6 days 23 hours" (sep ' ') or
// "6 days & 23 hours" (sep ' & '): the two largest units, rounded down.
export function duration(ms, sep) {
  const s = sep || ' ';
  const min = Math.max(0, Math.floor(ms / 60000));
  const d = Math.floor(min / 1440);
  const hr = Math.floor((min % 1440) / 60);
  const m = min % 60;
  if (d > 0) return hr > 0 ? `${unit(d, 'day')}${s}${unit(hr, 'hour')}` : unit(d, 'day');
  if (hr > 0) return m > 0 ? `${unit(hr, 'hour')}${s}${unit(m, 'minute')}` : unit(hr, 'hour');
  if (m > 0) return unit(m, 'minute');
  return 'less than a minute';
}
