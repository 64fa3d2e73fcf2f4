// opsagent's page: plain JavaScript, no build step, no other origin.
//
// The token: opened from the URL `opsagent serve` prints (#token=…), the
// page moves the token from the fragment (never sent to the server, never in
// logs) into this tab's sessionStorage and removes it from the address bar;
// or the user pastes it. Every API call sends it as an Authorization header,
// which a browser never adds by itself, so another site cannot make requests
// with it (no cookie, nothing to forge). Event streams are read with fetch,
// not EventSource, because EventSource cannot send that header.
'use strict';

const TOKEN_KEY = 'opsagent.token';
let token = sessionStorage.getItem(TOKEN_KEY);
let current = null; // {id, ctrl}: the request shown and its stream

const $ = (id) => document.getElementById(id);

// el builds an element; strings become text nodes (never HTML), so nothing
// from the cluster or a model can inject markup.
function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return e;
}

function takeTokenFromFragment() {
  const m = location.hash.match(/(?:^#|&)token=([^&]+)/);
  if (!m) return;
  token = decodeURIComponent(m[1]);
  sessionStorage.setItem(TOKEN_KEY, token);
  history.replaceState(null, '', location.pathname + location.search);
}

async function api(method, path, body) {
  const opts = { method, headers: { Authorization: 'Bearer ' + token }, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  let data = null;
  try { data = await resp.json(); } catch (_) { /* not JSON */ }
  if (!resp.ok) {
    const err = new Error((data && data.error) || `${resp.status} ${resp.statusText}`);
    err.status = resp.status;
    throw err;
  }
  return data;
}

function showSignin(message) {
  $('app').hidden = true;
  $('signout').hidden = true;
  $('signin').hidden = false;
  $('who').textContent = 'Not signed in';
  $('signin-error').textContent = message || '';
  $('token').focus();
}

async function signIn() {
  if (!token) return showSignin();
  try {
    const who = await api('GET', '/api/v1/whoami');
    $('signin').hidden = true;
    $('app').hidden = false;
    $('signout').hidden = false;
    $('who').textContent = `Signed in as ${who.user}${who.local ? ' (local access token)' : ''} · ${who.mode}${who.readOnly ? ' · read-only' : ''}`;
    $('text').focus();
    loadHistory();
  } catch (e) {
    if (e.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      token = null;
    }
    showSignin(e.message);
  }
}

// ---- requests ----

function setState(state) {
  const s = $('request-state');
  s.textContent = state;
  s.className = 'state ' + state;
  $('cancel').hidden = !(state === 'running' || state === 'waiting');
}

function addStep(text, cls, detail) {
  const li = el('li', { class: cls || '' }, text);
  if (detail !== undefined) {
    li.append(el('details', {}, el('summary', { text: 'details' }), el('pre', { text: JSON.stringify(detail, null, 2) })));
  }
  $('steps').append(li);
}

function diffBlock(diff) {
  const pre = el('pre', { class: 'diff', 'aria-label': 'diff' });
  for (const line of diff.split('\n')) {
    const cls = line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : '';
    pre.append(el('span', { class: cls }, line + '\n'));
  }
  return pre;
}

function renderApproval(a) {
  const card = el('div', { class: 'approval', id: 'approval-' + a.id, role: 'group', 'aria-label': 'approval ' + a.tool });
  card.append(
    el('h3', { text: 'Approve this change?' }),
    el('p', {}, el('span', { class: 'risk ' + a.risk, text: a.risk }), ` ${a.tool}: `, el('strong', { text: a.preview.summary || '' })),
  );
  const facts = el('ul');
  for (const t of a.preview.targets || []) facts.append(el('li', { text: `changes ${t.kind} ${t.namespace ? t.namespace + '/' : ''}${t.name}` }));
  for (const p of a.privileged || []) facts.append(el('li', { text: 'privileged: ' + p }));
  for (const t of a.outOfScope || []) facts.append(el('li', { text: `outside namespace ${a.namespace}: ${t.kind} ${t.namespace ? t.namespace + '/' : ''}${t.name}` }));
  if (facts.children.length) card.append(facts);
  card.append(el('p', { class: 'muted', text: 'Arguments (secret-looking values masked):' }), el('pre', { text: JSON.stringify(a.args, null, 2) }));
  if (a.preview.diff) card.append(diffBlock(a.preview.diff));
  card.append(el('p', { class: 'muted expires', text: 'Expires at ' + new Date(a.expiresAt).toLocaleTimeString() }));
  const status = el('p', { class: 'error', role: 'status' });
  const approve = el('button', { type: 'button', text: 'Approve', onclick: () => decide(a.id, 'approve') });
  const deny = el('button', { type: 'button', class: 'deny', text: 'Deny', onclick: () => decide(a.id, 'deny') });
  card.append(el('div', { class: 'buttons' }, approve, deny), status);
  $('approvals').append(card);
  approve.focus();
}

function markDecided(a) {
  const card = $('approval-' + a.id);
  if (!card) return;
  card.classList.add('decided');
  card.querySelector('.buttons')?.remove();
  card.querySelector('.expires')?.remove();
  card.querySelector('h3').textContent = `Change ${a.state}${a.decidedBy ? ' by ' + a.decidedBy : ''}`;
  if (a.reason) card.append(el('p', { text: a.reason }));
}

async function decide(id, decision) {
  const card = $('approval-' + id);
  card.querySelectorAll('button').forEach((b) => { b.disabled = true; });
  try {
    await api('POST', `/api/v1/requests/${current.id}/approvals/${id}`, { decision });
  } catch (e) {
    card.querySelector('[role=status]').textContent = e.message;
    card.querySelectorAll('button').forEach((b) => { b.disabled = false; });
  }
}

function describeAction(r) {
  if (r.error) return { text: `${r.tool} failed: ${r.error}`, cls: 'fail' };
  if (r.noChange) return { text: `${r.tool}: no change needed (${r.preview.summary})` };
  if (r.dryRun) return { text: `${r.tool} (dry run, nothing changed): ${r.preview.summary}` };
  const msg = r.result && typeof r.result === 'object' && r.result.message;
  if (r.preview) return { text: `${r.tool} done: ${msg || r.preview.summary}` };
  return { text: `${r.tool} read` };
}

function handle(ev) {
  const d = ev.data || {};
  switch (ev.type) {
    case 'started': setState('running'); addStep(`Started in namespace ${d.namespace}`, 'muted'); break;
    case 'step': addStep(d.message, 'muted'); break;
    case 'approval': setState('waiting'); renderApproval(d); break;
    case 'decision': setState('running'); markDecided(d); break;
    case 'action': {
      const a = describeAction(d);
      if (a.text) addStep(a.text, a.cls, d.preview ? undefined : d.result);
      if (d.preview && d.preview.diff && !d.error) $('steps').lastChild.append(diffBlock(d.preview.diff));
      break;
    }
    case 'answer': $('answer').hidden = false; $('answer').textContent = d.answer; break;
    case 'error': addStep('Error: ' + d.error, 'fail'); break;
    case 'done': setState(d.state); loadHistory(); break;
  }
}

function parseEvent(block) {
  let data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('data: ')) data += line.slice(6);
  }
  return data ? JSON.parse(data) : null;
}

// stream reads the request's events with fetch; it resumes after a broken
// connection from the last event seen (Last-Event-ID).
async function stream(id, ctrl) {
  let last = 0;
  for (let attempt = 0; attempt < 5 && !ctrl.signal.aborted; attempt++) {
    try {
      const resp = await fetch(`/api/v1/requests/${id}/events`, {
        headers: { Authorization: 'Bearer ' + token, 'Last-Event-ID': String(last) },
        credentials: 'omit', cache: 'no-store', signal: ctrl.signal,
      });
      if (!resp.ok) throw new Error(`event stream: ${resp.status}`);
      const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const ev = parseEvent(buf.slice(0, i));
          buf = buf.slice(i + 2);
          if (!ev) continue;
          last = ev.seq;
          handle(ev);
          if (ev.type === 'done') return;
        }
      }
    } catch (e) {
      if (ctrl.signal.aborted) return;
      addStep('Lost the event stream (' + e.message + '); reconnecting…', 'muted');
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function openRequest(view) {
  if (current) current.ctrl.abort();
  current = { id: view.id, ctrl: new AbortController() };
  $('request').hidden = false;
  $('request-text').textContent = view.text + (view.dryRun ? ' (dry run)' : '');
  $('approvals').replaceChildren();
  $('steps').replaceChildren();
  $('answer').hidden = true;
  $('answer').textContent = '';
  setState(view.state);
  stream(view.id, current.ctrl);
}

async function submitRequest(ev) {
  ev.preventDefault();
  $('ask-error').textContent = '';
  const body = { text: $('text').value, dryRun: $('dryrun').checked, allowDestructive: $('destructive').checked, allowPrivileged: $('privileged').checked };
  if ($('namespace').value.trim()) body.namespace = $('namespace').value.trim();
  $('submit').disabled = true;
  try {
    openRequest(await api('POST', '/api/v1/requests', body));
  } catch (e) {
    $('ask-error').textContent = e.message;
  } finally {
    $('submit').disabled = false;
  }
}

async function loadHistory() {
  try {
    const { requests } = await api('GET', '/api/v1/requests');
    $('history').replaceChildren(...requests.map((r) => el('li', {},
      el('button', { type: 'button', text: r.text, onclick: () => openRequest(r) }),
      ` — ${r.namespace}, `, el('span', { class: 'state ' + r.state, text: r.state }))));
  } catch (e) {
    $('history').replaceChildren(el('li', { class: 'error', text: e.message }));
  }
}

// ---- diagnose ----

function renderFinding(f) {
  const box = el('div', { class: 'finding' },
    el('p', {}, el('span', { class: 'sev ' + f.severity, text: f.severity }), ` ${f.object.kind} ${f.object.name}: `, el('strong', { text: f.summary })));
  if (f.similar && f.similar.length) box.append(el('p', { class: 'muted', text: 'also: ' + f.similar.join(', ') }));
  if (f.cause) box.append(el('p', { text: 'Cause: ' + f.cause }));
  const ev = f.evidence || {};
  if (ev.status && ev.status.length) box.append(el('p', { class: 'muted', text: 'Status' }), el('pre', { text: ev.status.join('\n') }));
  if (ev.events && ev.events.length) {
    box.append(el('p', { class: 'muted', text: 'Events' }),
      el('pre', { text: ev.events.map((e) => `${e.type} ${e.reason}${e.count > 1 ? ' ×' + e.count : ''}: ${e.message}`).join('\n') }));
  }
  if (ev.logs && ev.logs.lines && ev.logs.lines.length) {
    box.append(el('p', { class: 'muted', text: `Log of ${ev.logs.pod}/${ev.logs.container}${ev.logs.previous ? ' (previous)' : ''}` }), el('pre', { text: ev.logs.lines.join('\n') }));
  }
  if (f.fixes && f.fixes.length) {
    box.append(el('p', { class: 'muted', text: 'Fix' }), el('ol', {}, f.fixes.map((x) => el('li', {}, x.description, x.command ? el('pre', { text: x.command }) : null))));
  }
  return box;
}

function renderReport(rep) {
  const out = $('diag');
  out.replaceChildren();
  const s = rep.summary;
  out.append(s.healthy
    ? el('p', { class: 'healthy', text: `Healthy: nothing found in ${rep.metadata.scope.namespace || 'the cluster'}.` })
    : el('p', { text: `${s.critical} critical, ${s.warning} warning in ${s.groups} group(s), namespace ${rep.metadata.scope.namespace || '(all)'}.` }));
  for (const g of rep.groups || []) {
    const o = g.object;
    out.append(el('div', { class: 'group' },
      el('h3', {}, el('span', { class: 'sev ' + g.severity, text: g.severity }), ` ${o.kind} ${o.namespace ? o.namespace + '/' : ''}${o.name}`),
      g.findings.map(renderFinding)));
  }
  // errors: checks that failed, so the report is incomplete; skipped:
  // cluster-wide lists this caller may not read, left out on purpose.
  for (const e of rep.errors || []) out.append(el('p', { class: 'error', text: `Could not check ${e.resource}: ${e.message}` }));
  for (const e of rep.skipped || []) out.append(el('p', { class: 'muted', text: `Not checked ${e.resource}: ${e.message}` }));
}

async function runDiagnose(ev) {
  ev.preventDefault();
  $('diag-error').textContent = '';
  $('diag').replaceChildren(el('p', { class: 'muted', text: 'Diagnosing…' }));
  const ns = $('diag-ns').value.trim();
  try {
    renderReport(await api('GET', '/api/v1/diagnose' + (ns ? '?namespace=' + encodeURIComponent(ns) : '')));
  } catch (e) {
    $('diag').replaceChildren();
    $('diag-error').textContent = e.message;
  }
}

// ---- wiring ----

document.addEventListener('DOMContentLoaded', () => {
  takeTokenFromFragment();
  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = $('token').value.trim();
    $('token').value = '';
    sessionStorage.setItem(TOKEN_KEY, token);
    signIn();
  });
  $('signout').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    token = null;
    if (current) current.ctrl.abort();
    showSignin();
  });
  $('ask-form').addEventListener('submit', submitRequest);
  $('diag-form').addEventListener('submit', runDiagnose);
  $('cancel').addEventListener('click', async () => {
    try { await api('POST', `/api/v1/requests/${current.id}/cancel`, {}); } catch (e) { addStep('Cancel failed: ' + e.message, 'fail'); }
  });
  signIn();
});
