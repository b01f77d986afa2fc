/** Issue 7, item 7: Markdown built from file text renders as that text (core/util/markdown.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MarkupContent } from 'vscode-languageserver-types';
import { codeSpan, escapeMarkdown } from '../../engine/src/core/util/markdown';
import { caret } from '../helpers/memfs';
import { makeWorkspace, validInstruction } from '../helpers/fixtures';

test('escapeMarkdown: links, images, HTML, entities, emphasis, tables and new blocks are inert', () => {
  assert.equal(escapeMarkdown('[x](command:evil)'), '\\[x\\]\\(command:evil\\)');
  assert.equal(escapeMarkdown('![i](http://h/x.png)'), '!\\[i\\]\\(http://h/x.png\\)');
  assert.equal(escapeMarkdown('<img src=x onerror=alert(1)>'), '&lt;img src=x onerror=alert\\(1\\)&gt;');
  assert.equal(escapeMarkdown('&lt; <command:x>'), '&amp;lt; &lt;command:x&gt;');
  assert.equal(escapeMarkdown('*b* _i_ ~s~ `c` a|b \\'), '\\*b\\* \\_i\\_ \\~s\\~ \\`c\\` a\\|b \\\\');
  assert.equal(escapeMarkdown('a\n[r]: command:x\n# h'), 'a \\[r\\]: command:x # h');
  assert.equal(escapeMarkdown('# h'), '\\# h');
  assert.equal(escapeMarkdown('- item'), '\\- item');
  assert.equal(escapeMarkdown('1. item'), '1\\. item');
  // Ordinary names stay readable.
  assert.equal(escapeMarkdown('gpt-4o'), 'gpt-4o');
  assert.equal(escapeMarkdown('http://127.0.0.1:8000/v1'), 'http://127.0.0.1:8000/v1');
});

test('codeSpan: the fence is longer than any backtick run inside', () => {
  assert.equal(codeSpan('llama'), '`llama`');
  assert.equal(codeSpan('a`b'), '``a`b``');
  assert.equal(codeSpan('x``` [l](command:y)'), '````x``` [l](command:y)````');
  assert.equal(codeSpan('`edge`'), '`` `edge` ``');
  assert.equal(codeSpan('two\nlines'), '`two lines`');
});

test('hover and completion: an endpoint with a hostile id, model and base URL', async () => {
  const config = {
    recordsFolder: 'records',
    defaults: { model: 'baseline', context: '32k' },
    endpoints: [
      {
        id: 'e[x](command:a)',
        kind: 'openai-compatible',
        model: 'm`<b>`',
        baseUrl: 'http://127.0.0.1:1/<script>',
      },
    ],
  };
  const env = await makeWorkspace({ 'medalign.config.json': JSON.stringify(config) });
  await env.ws.loadConfig();
  const { text, offset } = caret(validInstruction(1).replace('model: baseline', 'model: "e[x](c|ommand:a)"'));
  const d = env.doc('instructions/a.medalign', text);
  const h = await env.service.doHover(d, d.positionAt(offset), env.ws);
  const v = (h!.contents as MarkupContent).value;
  assert.ok(v.startsWith('**e\\[x\\]\\(command:a\\)**'), v);
  assert.ok(v.includes('- model: `` m`<b>` ``'), v);
  assert.ok(v.includes('base URL: http://127.0.0.1:1/&lt;script&gt;'), v);
  const list = await env.service.doComplete(d, d.positionAt(text.indexOf('model: ') + 7), env.ws);
  const item = list.items.find((i) => i.label === 'e[x](command:a)');
  assert.equal((item?.documentation as MarkupContent).value, v);
});
