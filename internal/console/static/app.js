// The console application: session, navigation and the client-side router.
import { loadSession, signOut } from './api.js';
import { h, replace, errorBox } from './ui.js';
import { pipelineList, pipelineView } from './pipelines.js';
import { deploymentList, deploymentView } from './deployments.js';
import { instanceList, eventLog } from './activity.js';

const routes = [
  [/^\/console\/?$/, pipelineList, 'pipelines'],
  [/^\/console\/pipelines\/?$/, pipelineList, 'pipelines'],
  [/^\/console\/pipelines\/([^/]+)(?:\/(history))?\/?$/, pipelineView, 'pipelines'],
  [/^\/console\/deployments\/?$/, deploymentList, 'deployments'],
  [/^\/console\/deployments\/([^/]+)\/?$/, deploymentView, 'deployments'],
  [/^\/console\/instances\/?$/, instanceList, 'instances'],
  [/^\/console\/eventlog\/?$/, eventLog, 'eventlog'],
];

let cleanup = null;
let generation = 0;

/** Shows the view of the current location. */
async function render() {
  const gen = ++generation;
  if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } cleanup = null; }
  document.getElementById('drawer-root').replaceChildren();
  const view = document.getElementById('view');
  const path = location.pathname;
  const match = routes.map(([re, fn, nav]) => [path.match(re), fn, nav]).find(([m]) => m);
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', !!match && a.dataset.nav === match[2]);
  }
  if (!match) {
    replace(view, h('div.page', h('h1', 'Not found'), h('p.muted', `Nothing lives at ${path}.`), h('a.btn', { href: '/console/' }, 'Go to pipelines')));
    return;
  }
  const [m, fn] = match;
  const params = m.slice(1).map((p) => (p === undefined ? p : decodeURIComponent(p)));
  view.replaceChildren(h('p.muted.loading', 'Loading…'));
  try {
    const c = await fn(view, params, { live: () => gen === generation });
    if (gen === generation) cleanup = c || null;
    else if (c) c();
  } catch (e) {
    console.error(e);
    if (gen === generation) replace(view, h('div.page', errorBox(e)));
  }
}

/** Navigates within the console without reloading the page. */
export function navigate(url) {
  history.pushState(null, '', url);
  render();
  window.scrollTo(0, 0);
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a[href]');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/console/') || url.pathname.startsWith('/console/static/')) return;
  ev.preventDefault();
  if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search);
});
window.addEventListener('popstate', render);

const session = await loadSession();
const who = document.getElementById('who');
who.textContent = session.arn.replace(/^arn:aws:iam::\d+:/, '');
who.title = `${session.arn} (${session.accessKeyId})`;
document.getElementById('sign-out').addEventListener('click', signOut);
render();
