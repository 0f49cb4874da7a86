// The console's data API: the server's AWS JSON 1.1 operations at
// /console/api, authenticated by the session cookie and the CSRF header.

const prefixes = {
  codepipeline: 'CodePipeline_20150709',
  codedeploy: 'CodeDeploy_20141006',
  slipway: 'Slipway_20261122',
};

let csrf = '';

/** An error answered by the API: code is the AWS __type. */
export class APIError extends Error {
  constructor(code, message, status) {
    super(message || code);
    this.code = code;
    this.status = status;
  }
}

function toSignIn() {
  location.assign('/console/login?next=' + encodeURIComponent(location.pathname + location.search));
}

/** Loads the session (and its CSRF token); sends the browser to sign in without one. */
export async function loadSession() {
  const res = await fetch('/console/session', { cache: 'no-store' });
  if (res.status === 401) {
    toSignIn();
    throw new APIError('MissingAuthenticationTokenException', 'not signed in', 401);
  }
  const s = await res.json();
  csrf = s.csrf;
  return s;
}

/** Calls operation op of service ('codepipeline', 'codedeploy' or 'slipway'). */
export async function call(service, op, input = {}) {
  const res = await fetch('/console/api', {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.1',
      'X-Amz-Target': `${prefixes[service]}.${op}`,
      'X-Slipway-Csrf': csrf,
    },
    body: JSON.stringify(input),
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    if (res.status === 401) toSignIn();
    throw new APIError(body.__type || 'HTTP' + res.status, body.message || `HTTP ${res.status}`, res.status);
  }
  return body;
}

export const cp = (op, input) => call('codepipeline', op, input);
export const cd = (op, input) => call('codedeploy', op, input);
export const sw = (op, input) => call('slipway', op, input);

/** Signs out and goes to the sign-in page. */
export async function signOut() {
  await fetch('/console/logout', { method: 'POST', headers: { 'X-Slipway-Csrf': csrf } });
  location.assign('/console/login');
}

/**
 * Follows the event log: onEvent(event) for every event committed after the
 * stream opened; onHello({after}) once connected. Returns a close function.
 */
export function follow({ pipeline, onEvent, onHello, onState }) {
  const url = '/console/events' + (pipeline ? '?pipeline=' + encodeURIComponent(pipeline) : '');
  const es = new EventSource(url);
  es.onmessage = (m) => {
    try { onEvent(JSON.parse(m.data)); } catch (e) { console.error(e); }
  };
  es.addEventListener('hello', (m) => { onState?.(true); onHello?.(JSON.parse(m.data)); });
  es.addEventListener('expired', () => { es.close(); toSignIn(); });
  es.onerror = () => onState?.(false);
  return () => es.close();
}

/** Runs fn over items with at most limit calls in flight; results in order. */
export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
