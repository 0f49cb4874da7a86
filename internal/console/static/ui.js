// Small DOM helpers and shared widgets of the console.

/** h('div.card#id', {attrs}, ...children) builds an element. */
export function h(spec, attrs, ...children) {
  const [, tag = 'div', rest = ''] = spec.match(/^([a-z0-9]*)(.*)$/i);
  const el = document.createElement(tag || 'div');
  for (const part of rest.match(/[.#][^.#]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'class') el.className += ' ' + v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Replaces the children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const statusClass = {
  Succeeded: 'ok', Failed: 'fail', InProgress: 'run', Stopping: 'warn', Stopped: 'stop', Superseded: 'mute',
  Cancelled: 'mute', Abandoned: 'mute', Queued: 'wait', Pending: 'wait', Skipped: 'mute', Ready: 'wait',
  Created: 'wait', Baking: 'run', Unknown: 'mute', Abandon: 'mute',
};

/** The CSS tone of a status word. */
export function tone(status) {
  return statusClass[status] || 'mute';
}

/** A status pill. */
export function badge(status, extra) {
  const s = status || 'Not run';
  return h('span.badge.tone-' + (status ? tone(status) : 'none'), { 'data-status': s }, h('span.dot'), s, extra);
}

/** A readable relative time for epoch seconds (or a Date). */
export function ago(t) {
  if (!t) return '—';
  const ms = typeof t === 'number' ? t * 1000 : new Date(t).getTime();
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** An absolute local time for epoch seconds. */
export function when(t) {
  if (!t) return '—';
  return new Date(t * 1000).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/** A duration between epoch seconds a and b (b: now when absent). */
export function duration(a, b) {
  if (!a) return '—';
  const raw = Math.max(0, (b || Date.now() / 1000) - a);
  if (raw < 1) return `${Math.round(raw * 1000)} ms`;
  if (raw < 10) return `${raw.toFixed(1)}s`;
  let s = Math.round(raw);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60); s %= 60;
  if (m < 60) return `${m}m ${s}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** Text with line-break opportunities between camel-case words. */
export function camelBreaks(text) {
  const out = [];
  for (const part of text.split(/(?=[A-Z][a-z])/)) {
    if (out.length) out.push(document.createElement('wbr'));
    out.push(part);
  }
  return out;
}

/** A time element that shows ago() and the absolute time on hover. */
export function timeAgo(t) {
  return h('time', { title: when(t), datetime: t ? new Date(t * 1000).toISOString() : undefined }, ago(t));
}

/** The first 8 characters of an ID, with the full one on hover. */
export function shortID(id) {
  return h('code.id', { title: id }, (id || '').slice(0, 8));
}

/** Shows a transient message. */
export function toast(msg, kind = 'info') {
  const root = document.getElementById('toast-root');
  const t = h('div.toast.toast-' + kind, { role: kind === 'error' ? 'alert' : 'status' }, msg);
  root.append(t);
  setTimeout(() => t.classList.add('toast-out'), 4200);
  setTimeout(() => t.remove(), 4800);
}

/** Opens a modal dialog; build(close) returns its content. Returns close. */
export function modal(title, build) {
  const dlg = h('dialog.modal');
  const close = () => { dlg.close(); dlg.remove(); };
  dlg.append(h('div.modal-head', h('h2', title), h('button.btn.btn-ghost.btn-icon', { type: 'button', 'aria-label': 'Close', onclick: close }, '×')),
    h('div.modal-body', build(close)));
  dlg.addEventListener('cancel', (e) => { e.preventDefault(); close(); });
  document.body.append(dlg);
  dlg.showModal();
  return close;
}

/** Opens the side drawer; build(close) returns its content. Returns close. */
export function drawer(title, build) {
  const root = document.getElementById('drawer-root');
  root.replaceChildren();
  const close = () => { root.replaceChildren(); root.dispatchEvent(new Event('closed')); };
  const panel = h('aside.drawer', { role: 'dialog', 'aria-label': title },
    h('div.drawer-head', h('h2', title), h('button.btn.btn-ghost.btn-icon', { type: 'button', 'aria-label': 'Close', onclick: close }, '×')),
    h('div.drawer-body', build(close)));
  root.append(h('div.drawer-scrim', { onclick: close }), panel);
  return close;
}

/** A key/value description list. */
export function facts(pairs) {
  return h('dl.facts', pairs.filter(Boolean).map(([k, v]) => [h('dt', k), h('dd', v ?? '—')]));
}

/** An empty-state box. */
export function empty(title, text) {
  return h('div.empty', h('div.empty-title', title), text ? h('p.muted', text) : null);
}

/** An error box for a failed load. */
export function errorBox(err) {
  return h('div.alert.alert-error', { role: 'alert' }, h('strong', err.code || 'Error'), ': ', err.message);
}

/** Runs fn with the button disabled; shows failures as toasts. */
export async function busy(button, fn) {
  button.disabled = true;
  try {
    return await fn();
  } catch (e) {
    toast(`${e.code ? e.code + ': ' : ''}${e.message}`, 'error');
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/**
 * A log view: append(text) adds streamed output, drawing the runner's own
 * lines ([Container], [Slipway], timestamps) dimmer than the commands'
 * output. Returns {el, append, reset}.
 */
export function logView(id) {
  const el = h('pre.log#' + id, { tabindex: '0' });
  let partial = '';
  let tail = null;
  const line = (text) => h('span.log-line' + (/^(\[(Container|Slipway)\]|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (LifecycleEvent|Script) )/.test(text) ? '.log-meta' : /\b(FAILED|Failed|failed|ERROR|Error|error)\b/.test(text) ? '.log-err' : ''), text);
  return {
    el,
    append(text) {
      const parts = (partial + text).split('\n');
      partial = parts.pop();
      tail?.remove();
      for (const p of parts) el.append(line(p + '\n'));
      tail = partial ? line(partial) : null;
      if (tail) el.append(tail);
    },
    reset() { partial = ''; tail = null; el.replaceChildren(); },
  };
}
