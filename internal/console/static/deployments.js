// Deployment views: the list and one deployment with its per-instance
// lifecycle grid, event details and hook logs.
import { cd, sw, mapLimit } from './api.js';
import { h, replace, badge, tone, timeAgo, when, duration, drawer, facts, empty, errorBox, busy, toast, camelBreaks, logView } from './ui.js';

const terminal = new Set(['Succeeded', 'Failed', 'Stopped']);

function chunks(list, n) {
  const out = [];
  for (let i = 0; i < list.length; i += n) out.push(list.slice(i, i + n));
  return out;
}

function revisionText(rev) {
  if (!rev) return '—';
  if (rev.s3Location) return `s3://${rev.s3Location.bucket}/${rev.s3Location.key}`;
  if (rev.gitHubLocation) return `${rev.gitHubLocation.repository}@${(rev.gitHubLocation.commitId || '').slice(0, 10)}`;
  if (rev.appSpecContent) return 'AppSpec content';
  return rev.revisionType || '—';
}

function overview(o) {
  if (!o) return null;
  const parts = [['Succeeded', 'ok'], ['InProgress', 'run'], ['Pending', 'wait'], ['Failed', 'fail'], ['Skipped', 'mute']];
  return h('span.overview', parts.filter(([k]) => o[k]).map(([k, t]) => h('span.count.tone-' + t, { title: k }, `${o[k]} ${k === 'InProgress' ? 'running' : k.toLowerCase()}`)));
}

/** The latest deployments, newest first, refreshed while any runs. */
export async function deploymentList(root, _params, ctx) {
  const table = h('div');
  replace(root, h('div.page', h('div.page-head', h('h1', 'Deployments')), table));
  let timer = null;
  async function load() {
    timer = null;
    // ListDeployments lists the oldest first: the newest are at the end.
    const ids = [];
    let token;
    do {
      const out = await cd('ListDeployments', { nextToken: token });
      ids.push(...(out.deployments || []));
      token = out.nextToken;
    } while (token);
    const infos = (await mapLimit(chunks(ids.slice(-50), 25), 4, (batch) => cd('BatchGetDeployments', { deploymentIds: batch })))
      .flatMap((o) => o.deploymentsInfo || [])
      .sort((a, b) => (b.createTime || 0) - (a.createTime || 0));
    if (!ctx.live()) return;
    if (!infos.length) {
      replace(table, empty('No deployments yet', 'Deploy a revision with: slipway deploy push, or a CodeDeploy action of a pipeline.'));
    } else {
      replace(table, h('div.card.table-card', h('table.table',
        h('thead', h('tr', h('th', 'Deployment'), h('th', 'Status'), h('th', 'Application · group'), h('th.hide-narrow', 'Revision'), h('th.hide-narrow', 'Instances'), h('th', 'Created'))),
        h('tbody', infos.map((d) => h('tr', { dataset: { deployment: d.deploymentId } },
          h('td', h('a', { href: `/console/deployments/${encodeURIComponent(d.deploymentId)}` }, d.deploymentId)),
          h('td', badge(d.status)),
          h('td', d.applicationName, h('span.muted', ' · '), d.deploymentGroupName),
          h('td.small.hide-narrow', h('code', revisionText(d.revision))),
          h('td.hide-narrow', overview(d.deploymentOverview)),
          h('td.small', timeAgo(d.createTime))))))));
    }
    if (infos.some((d) => !terminal.has(d.status))) timer = setTimeout(() => load().catch(() => {}), 2000);
  }
  await load();
  return () => clearTimeout(timer);
}

/** One deployment: summary and a grid of instances × lifecycle events. */
export async function deploymentView(root, [id], ctx) {
  const head = h('div.page-head');
  const summary = h('div');
  const grid = h('div');
  replace(root, h('div.page',
    h('nav.crumbs', h('a', { href: '/console/deployments' }, 'Deployments'), h('span', '/'), h('span', id)),
    head, summary, h('h2.section-title', 'Instances'), grid));
  let timer = null;
  let openCell = null;

  async function load() {
    timer = null;
    let d;
    let targets = [];
    try {
      d = (await cd('GetDeployment', { deploymentId: id })).deploymentInfo;
      const ids = [];
      let token;
      do {
        const out = await cd('ListDeploymentTargets', { deploymentId: id, nextToken: token });
        ids.push(...(out.targetIds || []));
        token = out.nextToken;
      } while (token);
      targets = (await mapLimit(chunks(ids, 25), 4, (batch) => cd('BatchGetDeploymentTargets', { deploymentId: id, targetIds: batch })))
        .flatMap((o) => o.deploymentTargets || []).map((t) => t.instanceTarget).filter(Boolean)
        .sort((a, b) => a.targetId.localeCompare(b.targetId));
    } catch (e) {
      replace(summary, errorBox(e));
      timer = setTimeout(load, 3000);
      return;
    }
    if (!ctx.live()) return;
    drawHead(d);
    drawGrid(d, targets);
    openCell?.(targets);
    if (!terminal.has(d.status)) timer = setTimeout(load, 1000);
  }

  function drawHead(d) {
    const stop = !terminal.has(d.status) ? h('button.btn.btn-danger', { type: 'button' }, 'Stop deployment') : null;
    stop?.addEventListener('click', () => busy(stop, async () => {
      await cd('StopDeployment', { deploymentId: id });
      toast('Stopping the deployment', 'info');
      load();
    }));
    replace(head, h('div', h('h1', 'Deployment ', h('code', id)), h('p.muted.small', `${d.applicationName} · ${d.deploymentGroupName} · ${d.deploymentConfigName}`)), h('div.actions', stop));
    replace(summary, h('div.card.exec-summary.dep-summary', { dataset: { status: d.status } },
      h('div.exec-summary-main', h('span.muted.small', 'Status'), badge(d.status), overview(d.deploymentOverview)),
      facts([
        ['Revision', h('code', revisionText(d.revision))],
        ['Created', when(d.createTime)],
        ['Duration', duration(d.startTime || d.createTime, terminal.has(d.status) ? d.completeTime : null)],
        ['Creator', d.creator || 'user'],
        d.description ? ['Description', d.description] : null,
        d.errorInformation ? ['Error', h('span.err', `${d.errorInformation.code}: ${d.errorInformation.message}`)] : null,
        d.rollbackInfo?.rollbackDeploymentId ? ['Rollback', h('a', { href: `/console/deployments/${d.rollbackInfo.rollbackDeploymentId}` }, d.rollbackInfo.rollbackDeploymentId)] : null,
      ])));
  }

  function drawGrid(d, targets) {
    if (!targets.length) {
      replace(grid, empty('No instances', 'The deployment group selected no instance.'));
      return;
    }
    const names = [];
    for (const t of targets) for (const e of t.lifecycleEvents || []) if (!names.includes(e.lifecycleEventName)) names.push(e.lifecycleEventName);
    replace(grid, h('div.card.grid-card', h('div.grid-scroll', h('table.lifecycle',
      h('thead', h('tr', h('th.inst', 'Instance'), h('th', 'Status'), names.map((n) => h('th.ev', { title: n }, h('span', camelBreaks(n)))))),
      h('tbody', targets.map((t) => {
        const evs = new Map((t.lifecycleEvents || []).map((e) => [e.lifecycleEventName, e]));
        return h('tr', { dataset: { instance: t.targetId, status: t.status } },
          h('th.inst', h('span.inst-name', t.targetId), h('span.muted.small', timeAgo(t.lastUpdatedAt))),
          h('td', badge(t.status)),
          names.map((n) => {
            const e = evs.get(n);
            if (!e) return h('td.cell.tone-none', '');
            const cell = h('td.cell.tone-' + tone(e.status), { dataset: { event: n, status: e.status }, title: `${n}: ${e.status}`, tabindex: '0' },
              h('span.cell-status', e.status === 'Pending' ? '·' : e.status === 'InProgress' ? '' : e.status === 'Succeeded' ? '✓' : e.status === 'Failed' ? '✕' : '–'),
              e.startTime ? h('span.cell-dur', duration(e.startTime, e.endTime)) : null);
            cell.addEventListener('click', () => openEvent(t.targetId, n, targets));
            cell.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') openEvent(t.targetId, n, targets); });
            return cell;
          }));
      }))))),
    h('p.muted.small.legend', 'Click a cell for the event’s diagnostics and its full hook log.'));
  }

  function openEvent(instance, event, targets) {
    const info = h('div');
    const log = logView('lifecycle-log');
    const logBox = log.el;
    const logState = h('span.muted.small');
    let seq = 0;
    let logTimer = null;
    let closed = false;
    const find = (ts) => ts.find((t) => t.targetId === instance)?.lifecycleEvents?.find((e) => e.lifecycleEventName === event);
    const draw = (ts) => {
      const e = find(ts);
      if (!e) return;
      replace(info, facts([
        ['Instance', instance],
        ['Status', badge(e.status)],
        ['Started', when(e.startTime)],
        ['Duration', e.startTime ? duration(e.startTime, e.endTime) : '—'],
        e.diagnostics?.errorCode ? ['Error code', e.diagnostics.errorCode] : null,
        e.diagnostics?.scriptName ? ['Script', h('code', e.diagnostics.scriptName)] : null,
        e.diagnostics?.message ? ['Message', e.diagnostics.message] : null,
      ]), e.diagnostics?.logTail ? [h('h3', 'Log tail'), h('pre.log.log-tail', e.diagnostics.logTail)] : null);
    };
    async function poll() {
      logTimer = null;
      if (closed) return;
      try {
        const out = await sw('GetLifecycleEventLog', { deploymentId: id, instanceId: instance, lifecycleEventName: event, afterSeq: seq, maxChunks: 500 });
        if (closed) return;
        for (const c of out.chunks || []) log.append(c.data);
        seq = out.nextSeq;
        logState.textContent = out.complete ? (logBox.textContent ? 'complete' : 'no output') : 'following…';
        logBox.dataset.complete = String(!!out.complete);
        if ((out.chunks || []).length) logBox.scrollTop = logBox.scrollHeight;
        if (!out.complete || (out.chunks || []).length) logTimer = setTimeout(poll, (out.chunks || []).length ? 100 : 1000);
      } catch (err) {
        logState.textContent = err.message;
      }
    }
    drawer(`${instance} · ${event}`, () => [info, h('div.log-head', h('h3', 'Full log'), logState), logBox]);
    draw(targets);
    poll();
    openCell = draw;
    document.getElementById('drawer-root').addEventListener('closed', () => { closed = true; clearTimeout(logTimer); openCell = null; }, { once: true });
  }

  await load();
  return () => { clearTimeout(timer); openCell = null; };
}
