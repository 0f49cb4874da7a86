// Pipeline views: the list, one pipeline (stages, actions, transitions,
// approvals, retries, history) and an action's details with its live log.
import { cp, sw, follow, mapLimit } from './api.js';
import { h, replace, badge, tone, timeAgo, when, duration, shortID, toast, modal, drawer, facts, empty, errorBox, busy, logView } from './ui.js';

const pageSize = 50;

/** The pipelines, a page at a time, with the latest status of every stage. */
export async function pipelineList(root, _params, ctx) {
  const tokens = [undefined];
  let page = 0;
  const rows = new Map(); // pipeline name -> row element
  const list = h('div.pipeline-list');
  const pager = h('div.pager');
  const filter = h('input.search', { type: 'search', placeholder: 'Filter this page…', 'aria-label': 'Filter pipelines' });
  const count = h('span.muted');
  filter.addEventListener('input', () => {
    const q = filter.value.trim().toLowerCase();
    for (const [name, row] of rows) row.hidden = q !== '' && !name.toLowerCase().includes(q);
  });
  replace(root, h('div.page',
    h('div.page-head', h('div', h('h1', 'Pipelines'), count), h('div.actions', filter)),
    list, pager));

  async function loadPage() {
    const out = await cp('ListPipelines', { maxResults: pageSize, nextToken: tokens[page] });
    tokens[page + 1] = out.nextToken;
    const pipes = out.pipelines || [];
    rows.clear();
    if (!pipes.length && page === 0) {
      replace(list, empty('No pipelines yet', 'Create one with: aws codepipeline create-pipeline --cli-input-json file://pipeline.json --endpoint-url ' + location.origin));
    } else {
      replace(list, pipes.map((p) => {
        const row = pipelineRow(p, null);
        rows.set(p.name, row);
        return row;
      }));
    }
    count.textContent = pipes.length ? `Page ${page + 1} · ${pipes.length} pipeline${pipes.length === 1 ? '' : 's'}` : '';
    pager.hidden = page === 0 && !out.nextToken;
    replace(pager,
      h('button.btn', { type: 'button', disabled: page === 0, onclick: () => { page--; loadPage(); } }, '← Previous'),
      h('button.btn', { type: 'button', disabled: !out.nextToken, onclick: () => { page++; loadPage(); } }, 'Next →'));
    await mapLimit(pipes, 6, (p) => refreshRow(p.name));
  }

  async function refreshRow(name) {
    const row = rows.get(name);
    if (!row || !ctx.live()) return;
    try {
      const st = await cp('GetPipelineState', { name });
      const fresh = pipelineRow({ name, version: st.pipelineVersion, updated: st.updated }, st);
      fresh.hidden = row.hidden;
      row.replaceWith(fresh);
      rows.set(name, fresh);
    } catch (e) {
      replace(row.querySelector('.stage-strip'), h('span.muted', e.message));
    }
  }

  const pending = new Map();
  const stop = follow({
    onEvent: (e) => {
      if (!rows.has(e.pipelineName) || pending.has(e.pipelineName)) return;
      pending.set(e.pipelineName, setTimeout(() => { pending.delete(e.pipelineName); refreshRow(e.pipelineName); }, 150));
    },
  });
  await loadPage();
  return () => { stop(); for (const t of pending.values()) clearTimeout(t); };
}

function pipelineRow(p, st) {
  const stages = st ? st.stageStates || [] : null;
  const overall = stages ? overallStatus(stages) : null;
  return h('a.pipeline-row', { href: `/console/pipelines/${encodeURIComponent(p.name)}`, dataset: { pipeline: p.name } },
    h('div.pipeline-row-main',
      h('span.pipeline-name', p.name),
      h('span.muted.small', `v${p.version ?? '?'} · updated `, timeAgo(p.updated))),
    h('div.stage-strip', stages
      ? stages.map((s) => h('span.stage-chip.tone-' + (s.latestExecution ? tone(s.latestExecution.status) : 'none'),
        { title: `${s.stageName}: ${s.latestExecution?.status || 'not run'}`, dataset: { stage: s.stageName, status: s.latestExecution?.status || '' } },
        h('span.dot'), s.stageName, s.inboundTransitionState && !s.inboundTransitionState.enabled ? h('span.lock', { title: 'inbound transition disabled' }, '⏸') : null))
      : h('span.skeleton')),
    h('div.pipeline-row-status', overall ? badge(overall) : null));
}

/** The status a pipeline shows in lists: running, else the last stage run's. */
function overallStatus(stages) {
  const run = stages.filter((s) => s.latestExecution);
  if (!run.length) return null;
  if (run.some((s) => s.latestExecution.status === 'InProgress')) return 'InProgress';
  if (run.some((s) => s.latestExecution.status === 'Failed')) return 'Failed';
  return run[run.length - 1].latestExecution.status;
}

const categoryIcon = { Source: '⤓', Build: '⚙', Test: '✓', Deploy: '⇪', Approval: '⚑', Invoke: 'λ', Compute: '❯' };

/** One pipeline: its structure drawn with the latest state, live. */
export async function pipelineView(root, [name, tab], ctx) {
  const base = `/console/pipelines/${encodeURIComponent(name)}`;
  const liveDot = h('span.live', { title: 'Connecting to live updates…' }, h('span.dot'), 'Live');
  const header = h('div.page-head');
  const body = h('div');
  replace(root, h('div.page',
    h('nav.crumbs', h('a', { href: '/console/pipelines' }, 'Pipelines'), h('span', '/'), h('span', name)),
    header,
    h('div.tabs', { role: 'tablist' },
      h('a.tab', { href: base, class: tab ? '' : 'active', role: 'tab' }, 'Pipeline'),
      h('a.tab', { href: base + '/history', class: tab === 'history' ? 'active' : '', role: 'tab' }, 'History')),
    body));

  let decl = null;
  let state = null;
  let openAction = null; // details drawer to refresh
  let lastDrawn = '';
  const release = h('button.btn.btn-primary#release-change', { type: 'button' }, 'Release change');
  release.addEventListener('click', () => busy(release, async () => {
    const out = await cp('StartPipelineExecution', { name });
    toast(`Started execution ${out.pipelineExecutionId.slice(0, 8)}`, 'ok');
    refresh();
  }));

  function drawHeader() {
    const p = decl.pipeline;
    replace(header,
      h('div', h('h1', name, ' ', liveDot),
        h('p.muted.small', `${p.pipelineType || 'V1'} · version ${p.version} · ${p.executionMode || 'SUPERSEDED'} mode · updated `, timeAgo(decl.metadata?.updated))),
      h('div.actions', release));
  }

  async function refresh() {
    if (!ctx.live()) return;
    try {
      const [st, execs] = await Promise.all([
        cp('GetPipelineState', { name }),
        cp('ListPipelineExecutions', { pipelineName: name, maxResults: tab === 'history' ? 50 : 1 }),
      ]);
      if (!decl || decl.pipeline.version !== st.pipelineVersion) {
        decl = await cp('GetPipeline', { name });
        drawHeader();
        lastDrawn = '';
      }
      state = st;
      if (!ctx.live()) return;
      // Redraw only what changed: a live page must not move under the pointer.
      const key = JSON.stringify([st, execs.pipelineExecutionSummaries]);
      if (key === lastDrawn) return;
      lastDrawn = key;
      if (tab === 'history') drawHistory(body, name, execs.pipelineExecutionSummaries || []);
      else drawPipeline(body, name, decl.pipeline, st, (execs.pipelineExecutionSummaries || [])[0], { refresh, openDetails });
      openAction?.refresh(st);
    } catch (e) {
      replace(body, errorBox(e));
    }
  }

  function openDetails(stage, action) {
    openAction?.dispose();
    openAction = actionDetails(name, stage, action, () => state, decl.pipeline);
    document.getElementById('drawer-root').addEventListener('closed', () => { openAction?.dispose(); openAction = null; }, { once: true });
  }

  let timer = null;
  const schedule = () => { if (!timer) timer = setTimeout(() => { timer = null; refresh(); }, 120); };
  const stop = follow({
    pipeline: name,
    onEvent: schedule,
    onState: (up) => { liveDot.classList.toggle('down', !up); liveDot.title = up ? 'Updating live' : 'Reconnecting…'; },
    onHello: schedule, // catch up on what happened before the stream opened
  });
  await refresh();
  return () => { stop(); clearTimeout(timer); openAction?.dispose(); };
}

function drawPipeline(body, name, pipe, st, latest, hooks) {
  const byName = new Map((st.stageStates || []).map((s) => [s.stageName, s]));
  const stages = [];
  pipe.stages.forEach((stage, i) => {
    const s = byName.get(stage.name) || {};
    if (i > 0) stages.push(transition(name, stage.name, s.inboundTransitionState, hooks));
    stages.push(stageCard(name, stage, s, hooks));
  });
  replace(body,
    latest ? executionSummary(latest) : h('div.card.muted', 'This pipeline has not run yet. Choose Release change to run it.'),
    h('div.stages', stages));
}

function executionSummary(x) {
  const rev = (x.sourceRevisions || [])[0];
  const running = x.status === 'InProgress' || x.status === 'Stopping';
  const trig = x.trigger ? `${x.trigger.triggerType}${x.trigger.triggerDetail ? ' · ' + x.trigger.triggerDetail.replace(/^arn:aws:iam::\d+:/, '') : ''}` : '';
  return h('div.card.exec-summary', { dataset: { execution: x.pipelineExecutionId, status: x.status } },
    h('div.exec-summary-main',
      h('span.muted.small', 'Latest execution'), badge(x.status), shortID(x.pipelineExecutionId),
      trig ? h('span.muted.small', trig) : null),
    h('dl.meta',
      h('div', h('dt', 'Started'), h('dd', timeAgo(x.startTime))),
      h('div', h('dt', 'Duration'), h('dd', duration(x.startTime, running ? null : x.lastUpdateTime))),
      rev ? h('div', h('dt', 'Source'), h('dd', h('code', (rev.revisionId || '').slice(0, 12)), rev.revisionSummary ? ' ' + firstLine(rev.revisionSummary) : '')) : null),
    !running && x.statusSummary ? h('p.exec-note', x.statusSummary) : null);
}

function firstLine(s) {
  try { const j = JSON.parse(s); if (j.CommitMessage) s = j.CommitMessage; } catch { /* plain text */ }
  return String(s).split('\n')[0].slice(0, 80);
}

function stageCard(pipeline, stage, s, hooks) {
  const status = s.latestExecution?.status;
  const acts = new Map((s.actionStates || []).map((a) => [a.actionName, a]));
  const groups = new Map();
  for (const a of stage.actions) {
    const ro = a.runOrder || 1;
    if (!groups.has(ro)) groups.set(ro, []);
    groups.get(ro).push(a);
  }
  const orders = [...groups.keys()].sort((a, b) => a - b);
  let retry = null;
  if (status === 'Failed' && s.latestExecution?.pipelineExecutionId) {
    retry = h('button.btn.btn-small.btn-retry', { type: 'button', dataset: { retry: stage.name } }, '↻ Retry failed actions');
    retry.addEventListener('click', () => busy(retry, async () => {
      await cp('RetryStageExecution', { pipelineName: pipeline, stageName: stage.name, pipelineExecutionId: s.latestExecution.pipelineExecutionId, retryMode: 'FAILED_ACTIONS' });
      toast(`Retrying ${stage.name}`, 'ok');
      hooks.refresh();
    }));
  }
  return h('section.stage.tone-border-' + (status ? tone(status) : 'none'), { dataset: { stage: stage.name, status: status || '' } },
    h('header.stage-head',
      h('div', h('h2', stage.name), s.latestExecution ? h('span.muted.small', 'Execution ', shortID(s.latestExecution.pipelineExecutionId)) : h('span.muted.small', 'Not run yet')),
      h('div.stage-head-right', retry, badge(status))),
    h('div.groups', orders.map((ro, i) => [
      i > 0 ? h('div.then', { 'aria-hidden': 'true' }, '↓') : null,
      h('div.group', { dataset: { runOrder: ro } }, groups.get(ro).map((a) => actionCard(pipeline, stage.name, a, acts.get(a.name), hooks))),
    ])));
}

function actionCard(pipeline, stageName, decl, a, hooks) {
  const x = a?.latestExecution;
  const t = decl.actionTypeId;
  const card = h('article.action.tone-edge-' + (x ? tone(x.status) : 'none'), { dataset: { action: decl.name, status: x?.status || '' }, tabindex: '0' },
    h('div.action-head',
      h('span.action-icon', { title: t.category }, categoryIcon[t.category] || '•'),
      h('div.action-title', h('span.action-name', decl.name), h('span.muted.small', `${t.provider}${t.owner !== 'AWS' ? ' (' + t.owner + ')' : ''}`)),
      badge(x?.status)),
    x?.summary || x?.errorDetails ? h('p.action-summary' + (x.errorDetails ? '.err' : ''), { title: errorHead(x.errorDetails?.message || x.summary) }, errorHead(x.errorDetails?.message || x.summary).split('\n')[0]) : null,
    h('div.action-foot',
      h('span.artifacts',
        (decl.inputArtifacts || []).map((ar) => h('span.artifact.in', { title: 'input artifact' }, ar.name)),
        (decl.inputArtifacts || []).length && (decl.outputArtifacts || []).length ? h('span.arrow', '→') : null,
        (decl.outputArtifacts || []).map((ar) => h('span.artifact.out', { title: 'output artifact' }, ar.name))),
      x ? h('span.muted.small', timeAgo(x.lastStatusChange)) : null));
  if (t.category === 'Approval' && x?.status === 'InProgress' && x.token) {
    const review = h('button.btn.btn-primary.btn-small.btn-review', { type: 'button' }, 'Review');
    review.addEventListener('click', (ev) => { ev.stopPropagation(); approvalDialog(pipeline, stageName, decl, x.token, hooks); });
    card.querySelector('.action-foot').prepend(review);
  }
  const open = () => hooks.openDetails(stageName, decl.name);
  card.addEventListener('click', open);
  card.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
  return card;
}

function approvalDialog(pipeline, stage, decl, token, hooks) {
  modal(`Review ${decl.name}`, (close) => {
    const summary = h('textarea#approval-summary', { rows: 3, maxlength: 512, placeholder: 'Why are you approving or rejecting?' });
    const send = (status) => async (ev) => {
      await busy(ev.currentTarget, async () => {
        await cp('PutApprovalResult', { pipelineName: pipeline, stageName: stage, actionName: decl.name, token, result: { summary: summary.value || status, status } });
        toast(`${decl.name}: ${status}`, status === 'Approved' ? 'ok' : 'info');
        close();
        hooks.refresh();
      });
    };
    const c = decl.configuration || {};
    return [
      c.CustomData ? h('p', c.CustomData) : null,
      c.ExternalEntityLink ? h('p', h('a', { href: c.ExternalEntityLink, target: '_blank', rel: 'noopener' }, c.ExternalEntityLink)) : null,
      h('label', 'Summary', summary),
      h('div.modal-actions',
        h('button.btn.btn-danger#reject', { type: 'button', onclick: send('Rejected') }, 'Reject'),
        h('button.btn.btn-success#approve', { type: 'button', onclick: send('Approved') }, 'Approve')),
    ];
  });
}

function transition(pipeline, stageName, tr, hooks) {
  const enabled = !tr || tr.enabled;
  const toggle = h('button.btn.btn-ghost.btn-small', { type: 'button' }, enabled ? 'Disable transition' : 'Enable transition');
  toggle.addEventListener('click', () => {
    if (!enabled) {
      busy(toggle, async () => {
        await cp('EnableStageTransition', { pipelineName: pipeline, stageName, transitionType: 'Inbound' });
        hooks.refresh();
      });
      return;
    }
    modal(`Disable transition into ${stageName}`, (close) => {
      const reason = h('input#transition-reason', { maxlength: 300, required: true, placeholder: 'e.g. Freeze during the release review' });
      return [
        h('p.muted', 'Executions wait before this stage until the transition is enabled again.'),
        h('label', 'Reason', reason),
        h('div.modal-actions', h('button.btn.btn-danger#disable-transition', {
          type: 'button',
          onclick: (ev) => busy(ev.currentTarget, async () => {
            await cp('DisableStageTransition', { pipelineName: pipeline, stageName, transitionType: 'Inbound', reason: reason.value.trim() || 'Disabled in the console' });
            close();
            hooks.refresh();
          }),
        }, 'Disable')),
      ];
    });
  });
  return h('div.transition' + (enabled ? '' : '.disabled'), { dataset: { transition: stageName, enabled: String(enabled) } },
    h('span.line', { 'aria-hidden': 'true' }),
    enabled ? null : h('span.transition-reason', '⏸ ', tr.disabledReason || 'disabled', tr.lastChangedBy ? h('span.muted.small', ` — ${tr.lastChangedBy.replace(/^arn:aws:iam::\d+:/, '')} `, timeAgo(tr.lastChangedAt)) : null),
    toggle);
}

function drawHistory(body, name, execs) {
  if (!execs.length) {
    replace(body, empty('No executions yet', 'Release a change to run the pipeline.'));
    return;
  }
  replace(body, h('div.card.table-card', h('table.table',
    h('thead', h('tr', h('th', 'Execution'), h('th', 'Status'), h('th', 'Trigger'), h('th.hide-narrow', 'Source'), h('th', 'Started'), h('th', 'Duration'))),
    h('tbody', execs.map((x) => {
      const rev = (x.sourceRevisions || [])[0];
      const tr = h('tr.clickable', { dataset: { execution: x.pipelineExecutionId } },
        h('td', shortID(x.pipelineExecutionId)),
        h('td', badge(x.status)),
        h('td.small', x.trigger?.triggerType || '—'),
        h('td.small.hide-narrow', rev ? h('code', (rev.revisionId || '').slice(0, 10)) : '—'),
        h('td.small', timeAgo(x.startTime)),
        h('td.small', duration(x.startTime, x.status === 'InProgress' ? null : x.lastUpdateTime)));
      tr.addEventListener('click', () => executionDrawer(name, x));
      return tr;
    })))));
}

function executionDrawer(name, x) {
  drawer(`Execution ${x.pipelineExecutionId.slice(0, 8)}`, () => {
    const list = h('div', h('p.muted', 'Loading…'));
    cp('ListActionExecutions', { pipelineName: name, filter: { pipelineExecutionId: x.pipelineExecutionId }, maxResults: 100 }).then((out) => {
      const rows = (out.actionExecutionDetails || []).slice().sort((a, b) => (a.startTime || 0) - (b.startTime || 0));
      replace(list, rows.length ? h('table.table', h('tbody', rows.map((d) => h('tr', { dataset: { actionRun: `${d.stageName}/${d.actionName}` } },
        h('td', h('div', h('strong', d.actionName)), h('span.muted.small', d.stageName)),
        h('td', badge(d.status)),
        h('td.small', duration(d.startTime, d.status === 'InProgress' ? null : d.lastUpdateTime)))))) : empty('No actions ran'));
    }, (e) => replace(list, errorBox(e)));
    return [facts([
      ['Status', badge(x.status)],
      ['ID', h('code', x.pipelineExecutionId)],
      ['Started', when(x.startTime)],
      ['Trigger', x.trigger ? `${x.trigger.triggerType} ${x.trigger.triggerDetail || ''}` : '—'],
      x.statusSummary ? ['Summary', x.statusSummary] : null,
    ]), h('h3', 'Actions'), list];
  });
}

/** An error message without the log tail the log below shows in full. */
function errorHead(msg) {
  const head = String(msg || '').split(/\s*--- log tail ---/)[0];
  return head.length > 600 ? head.slice(0, 600) + '…' : head;
}

/**
 * The details drawer of one action with its log, following it while the
 * action runs. refresh(state) redraws it after a pipeline update.
 */
function actionDetails(pipeline, stage, action, getState, pipe) {
  const decl = pipe.stages.find((s) => s.name === stage)?.actions.find((a) => a.name === action);
  const info = h('div');
  const log = logView('action-log');
  const logBox = log.el;
  const followBox = h('input', { type: 'checkbox', checked: true });
  const logState = h('span.muted.small');
  let execID = null;
  let seq = 0;
  let timer = null;
  let disposed = false;

  const current = () => getState()?.stageStates?.find((s) => s.stageName === stage)?.actionStates?.find((a) => a.actionName === action)?.latestExecution;

  async function pollLog() {
    timer = null;
    if (disposed || !execID) return;
    try {
      const id = execID;
      const out = await sw('GetActionLog', { actionExecutionId: id, afterSeq: seq, maxChunks: 500 });
      if (disposed || id !== execID) return;
      for (const c of out.chunks || []) log.append(c.data);
      seq = out.nextSeq;
      if (followBox.checked && (out.chunks || []).length) logBox.scrollTop = logBox.scrollHeight;
      logState.textContent = out.complete ? 'complete' : 'following…';
      logBox.dataset.complete = String(!!out.complete);
      if (!out.complete || (out.chunks || []).length) timer = setTimeout(pollLog, (out.chunks || []).length ? 100 : 1000);
    } catch (e) {
      logState.textContent = e.message;
      timer = setTimeout(pollLog, 3000);
    }
  }

  function draw(st) {
    const x = current();
    const t = decl.actionTypeId;
    replace(info, facts([
      ['Status', badge(x?.status)],
      ['Type', `${t.category} · ${t.owner} · ${t.provider} · v${t.version}`],
      ['Stage', stage],
      ['Run order', String(decl.runOrder || 1)],
      x ? ['Execution', h('code', x.actionExecutionId || '—')] : null,
      x ? ['Last change', when(x.lastStatusChange)] : null,
      x?.lastUpdatedBy ? ['Updated by', x.lastUpdatedBy] : null,
      x?.summary && !x.errorDetails ? ['Summary', x.summary] : null,
      x?.externalExecutionUrl ? ['External', h('a', { href: x.externalExecutionUrl, target: '_blank', rel: 'noopener' }, x.externalExecutionId || 'link')] : null,
      decl.inputArtifacts?.length ? ['Input artifacts', decl.inputArtifacts.map((a) => a.name).join(', ')] : null,
      decl.outputArtifacts?.length ? ['Output artifacts', decl.outputArtifacts.map((a) => a.name).join(', ')] : null,
      decl.namespace ? ['Namespace', decl.namespace] : null,
    ]), x?.errorDetails ? h('div.alert.alert-error', h('strong', x.errorDetails.code), h('pre.err-msg', errorHead(x.errorDetails.message))) : null);
    const id = x?.actionExecutionId || null;
    if (id !== execID) {
      execID = id;
      seq = 0;
      log.reset();
      logBox.dataset.complete = 'false';
      clearTimeout(timer);
      if (id) pollLog();
      else logState.textContent = 'no execution yet';
    } else if (id && !timer && logBox.dataset.complete !== 'true') {
      pollLog();
    }
  }

  drawer(`${stage} · ${action}`, () => [
    info,
    h('div.log-head', h('h3', 'Log'), logState, h('label.check', followBox, 'Follow')),
    logBox,
  ]);
  draw(getState());
  return {
    refresh: (st) => { if (!disposed) draw(st); },
    dispose: () => { disposed = true; clearTimeout(timer); },
  };
}
