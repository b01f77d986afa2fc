/**
 * The response panel's webview script (panelWebview.ts `webviewMain`) over a small in-memory DOM: a
 * refine column's step line, its earlier steps (collapsed, kept open across updates, added as they
 * finish), Resume; every string lands in `textContent`; malformed messages are dropped.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { webviewMain } from '../../client/src/run/panelWebview';
import type { FromWebview, PanelColumn, PanelSnapshot, ToWebview } from '../../client/src/run/panelMessages';

class FakeEl {
  className = '';
  textContent: string | null = '';
  title = '';
  hidden = false;
  scrollTop = 0;
  scrollHeight = 0;
  clientHeight = 0;
  readonly attributes = new Map<string, string>();
  private readonly kids: FakeEl[] = [];
  private readonly listeners: (() => void)[] = [];
  constructor(readonly tag: string) {}
  get children(): FakeEl[] {
    return this.kids;
  }
  appendChild(c: FakeEl): FakeEl {
    this.kids.push(c);
    return c;
  }
  replaceChildren(...c: FakeEl[]): void {
    this.kids.splice(0, this.kids.length, ...c);
  }
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }
  addEventListener(_type: 'click', l: () => void): void {
    this.listeners.push(l);
  }
  click(): void {
    for (const l of this.listeners) l();
  }
}

function page() {
  const byId = new Map<string, FakeEl>();
  for (const id of [
    'heading',
    'detail',
    'columns',
    'empty',
    'summary',
    'summary-head',
    'summary-body',
    'expand-all',
    'collapse-all',
  ])
    byId.set(id, new FakeEl('div'));
  let onMessage: (e: { data: unknown }) => void = () => undefined;
  const posted: FromWebview[] = [];
  webviewMain(
    { addEventListener: (_t, l) => (onMessage = l) },
    { getElementById: (id) => byId.get(id) ?? null, createElement: (tag) => new FakeEl(tag) },
    { postMessage: (m) => posted.push(m) },
  );
  const send = (m: unknown) => onMessage({ data: m });
  const snapshot = (): PanelSnapshot => {
    const id = posted.length + 1000;
    send({ type: 'snapshot', requestId: id } satisfies ToWebview);
    const a = posted.at(-1);
    assert.ok(a?.type === 'snapshot' && a.requestId === id);
    return a.snapshot;
  };
  return { send, snapshot, posted };
}

const column = (over: Partial<PanelColumn>): PanelColumn => ({
  title: 'fake · 8k',
  status: 'streaming',
  text: '',
  ...over,
});

test('panel webview: refine steps collect above the streaming answer, keep their open state, then the final answer', () => {
  const p = page();
  assert.deepEqual(p.posted[0], { type: 'ready' });
  p.send({
    type: 'state',
    state: {
      session: 1,
      heading: 'r · r.medalign',
      detail: '',
      columns: [
        column({
          status: 'packing',
          refine: { of: 3, current: 0, line: 'Refine · 3 steps planned', earlier: [] },
        }),
      ],
    },
  } satisfies ToWebview);
  let s = p.snapshot();
  assert.equal(s.columns[0].stepLine, 'Refine · 3 steps planned');
  assert.deepEqual(s.columns[0].steps, []);

  const payload = '<img src=x onerror=alert(1)> step one';
  const step = (
    current: number,
    text: string,
    earlier: string[],
    status: PanelColumn['status'] = 'streaming',
  ) =>
    p.send({
      type: 'column',
      session: 1,
      index: 0,
      column: column({
        status,
        text,
        refine: {
          of: 3,
          current,
          line: `Step ${current} of 3 · streaming…`,
          earlier: earlier.map((t, k) => ({ step: k + 1, status: 'complete', text: t, meta: '' })),
        },
      }),
    } satisfies ToWebview);
  step(1, payload, []);
  step(2, 'two so far', [payload]);
  s = p.snapshot();
  assert.equal(s.columns[0].stepLine, 'Step 2 of 3 · streaming…');
  assert.equal(s.columns[0].text, 'two so far');
  assert.deepEqual(s.columns[0].steps, [{ label: 'Step 1 of 3 · complete', text: payload, collapsed: true }]);
  assert.ok(s.columns[0].actions.includes('Stop'));

  // Opened by the user, it stays open as the next step starts.
  p.send({ type: 'collapseStep', index: 0, step: 1, collapsed: false } satisfies ToWebview);
  step(3, 'final', [payload, 'two'], 'complete');
  s = p.snapshot();
  assert.deepEqual(
    s.columns[0].steps.map((x) => [x.label, x.text, x.collapsed]),
    [
      ['Step 1 of 3 · complete', payload, false],
      ['Step 2 of 3 · complete', 'two', true],
    ],
  );
  assert.ok(!s.columns[0].actions.includes('Stop'));
});

test('panel webview: Resume is offered for a stopped refine run and posts the action', () => {
  const p = page();
  p.send({
    type: 'state',
    state: {
      session: 4,
      heading: 'h',
      detail: '',
      columns: [
        column({
          status: 'cancelled',
          text: 'part',
          message: 'Cancelled in step 2 of 3: step 1 finished and is kept in the run file.',
          refine: {
            of: 3,
            current: 2,
            line: 'Answer of step 2 of 3 as far as it came (cancelled) · not the final answer',
            earlier: [
              {
                step: 1,
                status: 'complete',
                text: 'one',
                meta: 'prompt 1,000 tokens · answer 20',
                resumed: true,
              },
            ],
            resumeFrom: 2,
          },
        }),
      ],
    },
  } satisfies ToWebview);
  const s = p.snapshot();
  assert.deepEqual(s.columns[0].actions, ['Resume from step 2']);
  assert.equal(
    s.columns[0].steps[0].label,
    'Step 1 of 3 · complete · prompt 1,000 tokens · answer 20 · from an earlier run',
  );
  p.send({ type: 'press', index: 0, label: 'Resume from step 2' } satisfies ToWebview);
  assert.deepEqual(p.posted.at(-1), { type: 'action', action: 'resume', session: 4, index: 0 });
});

test('panel webview: malformed messages are dropped', () => {
  const p = page();
  const good = {
    type: 'state',
    state: { session: 1, heading: 'ok', detail: '', columns: [column({ text: 'kept' })] },
  };
  p.send(good);
  const bad: unknown[] = [
    null,
    'state',
    { type: 'state', state: { session: 2, heading: 'x', detail: '', columns: [{ title: 1 }] } },
    { type: 'column', session: 1, index: 0, column: column({ status: 'toString' as PanelColumn['status'] }) },
    {
      type: 'column',
      session: 1,
      index: 0,
      column: { ...column({}), refine: { of: 2, current: 1, line: 'x', earlier: 'no' } },
    },
    {
      type: 'column',
      session: 1,
      index: 0,
      column: {
        ...column({}),
        refine: {
          of: 2,
          current: 1,
          line: 'x',
          earlier: [{ step: 1, status: 'complete', text: 2, meta: '' }],
        },
      },
    },
    { type: 'column', session: 1, index: 0, column: { ...column({}), fixes: [{ action: 'retry' }] } },
    { type: 'collapseStep', index: 0, step: 'one', collapsed: true },
    { type: 'unknown' },
  ];
  for (const m of bad) p.send(m);
  const s = p.snapshot();
  assert.equal(s.heading, 'ok');
  assert.equal(s.columns[0].text, 'kept');
  assert.equal(s.columns[0].status, 'streaming…');
});
