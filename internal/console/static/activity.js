// Instances and the live event log.
import { cd, sw, follow, mapLimit } from './api.js';
import { h, replace, badge, timeAgo, when, shortID, empty } from './ui.js';

/** The on-premises instances with their tags. */
export async function instanceList(root) {
  const names = [];
  let token;
  do {
    const out = await cd('ListOnPremisesInstances', { nextToken: token });
    names.push(...(out.instanceNames || []));
    token = out.nextToken;
  } while (token);
  const batches = [];
  for (let i = 0; i < names.length; i += 25) batches.push(names.slice(i, i + 25));
  const infos = (await mapLimit(batches, 4, (b) => cd('BatchGetOnPremisesInstances', { instanceNames: b })))
    .flatMap((o) => o.instanceInfos || []).sort((a, b) => a.instanceName.localeCompare(b.instanceName));
  const seen = {};
  await mapLimit(batches, 4, async (b) => {
    const q = b.map((n) => 'instance=' + encodeURIComponent(n)).join('&');
    const res = await fetch('/console/agents?' + q, { cache: 'no-store' });
    if (res.ok) Object.assign(seen, (await res.json()).lastSeen);
  });
  replace(root, h('div.page', h('div.page-head', h('div', h('h1', 'Instances'), h('span.muted', `${infos.length} registered`))),
    infos.length ? h('div.card.table-card', h('table.table',
      h('thead', h('tr', h('th', 'Instance'), h('th', 'Tags'), h('th', 'Registered'), h('th', 'Last seen'), h('th.hide-narrow', 'Status'))),
      h('tbody', infos.map((i) => h('tr', { dataset: { instance: i.instanceName } },
        h('td', h('strong', i.instanceName)),
        h('td', h('span.tags', (i.tags || []).map((t) => h('span.tag', h('span.tag-k', t.Key), t.Value ? h('span.tag-v', t.Value) : null)))),
        h('td.small', timeAgo(i.registerTime)),
        h('td.small.last-seen', seen[i.instanceName] ? timeAgo(seen[i.instanceName]) : h('span.muted', 'never')),
        h('td.hide-narrow', i.deregisterTime ? badge('Stopped', ' deregistered') : badge('Succeeded', ' registered')))))))
      : empty('No instances', 'Register one with: slipway instance register <name> --tag key=value')));
}

const stateStatus = { STARTED: 'InProgress', SUCCEEDED: 'Succeeded', FAILED: 'Failed', CANCELED: 'Cancelled', STOPPED: 'Stopped', STOPPING: 'Stopping', SUPERSEDED: 'Superseded', RESUMED: 'InProgress', ABANDONED: 'Abandoned' };
const kind = {
  'CodePipeline Pipeline Execution State Change': 'Pipeline',
  'CodePipeline Stage Execution State Change': 'Stage',
  'CodePipeline Action Execution State Change': 'Action',
  'Slipway Manual Approval Notification': 'Approval',
};

function eventRow(e) {
  const d = (e.detail && e.detail.detail) || {};
  const what = [d.stage, d.action].filter(Boolean).join(' · ');
  const k = kind[e.detailType] || e.detailType;
  return h('tr', { dataset: { event: String(e.id) } },
    h('td.small.mono', String(e.id)),
    h('td.small', timeAgo(e.time)),
    h('td', h('span.kind.kind-' + k.toLowerCase(), k)),
    h('td', e.pipelineName ? h('a', { href: `/console/pipelines/${encodeURIComponent(e.pipelineName)}` }, e.pipelineName) : '—'),
    h('td.hide-narrow', e.pipelineExecutionId ? shortID(e.pipelineExecutionId) : ''),
    h('td.small', what),
    h('td', d.state ? badge(stateStatus[d.state] || d.state) : k === 'Approval' ? badge('Pending', ' notify') : ''));
}

/** The event log, newest first, live. */
export async function eventLog(root, _params, ctx) {
  const filter = h('input.search', { type: 'search', placeholder: 'Pipeline name', 'aria-label': 'Only this pipeline' });
  const body = h('tbody');
  const table = h('div.card.table-card', h('table.table',
    h('thead', h('tr', h('th', '#'), h('th', 'When'), h('th', 'Kind'), h('th', 'Pipeline'), h('th.hide-narrow', 'Execution'), h('th', 'Stage · action'), h('th', 'State'))),
    body));
  replace(root, h('div.page', h('div.page-head', h('div', h('h1', 'Events'), h('span.muted', 'The event log, as it is written.')), h('div.actions', filter)), table));
  let stop = null;
  const shown = 200;
  function connect() {
    stop?.();
    body.replaceChildren();
    const pipeline = filter.value.trim();
    stop = follow({
      pipeline,
      onHello: async ({ after }) => {
        if (body.children.length) return; // a reconnect: keep what is shown
        const out = await sw('ListEvents', { afterId: Math.max(0, after - 100), maxResults: 100, pipelineName: pipeline || undefined });
        if (!ctx.live()) return;
        const seen = new Set([...body.children].map((r) => r.dataset.event));
        for (const e of out.events || []) if (!seen.has(String(e.id))) body.prepend(eventRow(e));
        if (!body.children.length) body.append(h('tr.empty-row', h('td', { colspan: 7 }, h('span.muted', 'No events yet.'))));
      },
      onEvent: (e) => {
        body.querySelector('.empty-row')?.remove();
        const row = eventRow(e);
        row.classList.add('fresh');
        body.prepend(row);
        while (body.children.length > shown) body.lastChild.remove();
      },
    });
  }
  let t = null;
  filter.addEventListener('input', () => { clearTimeout(t); t = setTimeout(connect, 300); });
  connect();
  return () => { stop?.(); clearTimeout(t); };
}
