import { test } from 'node:test';
import assert from 'node:assert/strict';
import { descriptionFormat, renderDescription, sanitizeDescriptionHtml } from './description.js';

const EVIL = [
  '# Title',
  '',
  '<script>alert("x")</script>',
  '<img src="x" onerror="alert(1)">',
  '<a href="javascript:alert(2)">click</a>',
  '[md link](javascript:alert(3))',
  '<iframe src="https://example.com"></iframe>',
  '<div style="position:fixed" onclick="alert(4)">styled</div>',
  '<svg><script>alert(5)</script></svg>',
  '<form action="/root/dev"><input name="x"></form>',
  '',
  '```python',
  'print("<script>")',
  '```',
].join('\n');

test('a description with <script> renders inert: no script, handler, javascript: URL, iframe, style or form', () => {
  const out = renderDescription(EVIL, 'text/markdown').value;
  assert.match(out, /<h1[^>]*>Title<\/h1>/);
  assert.doesNotMatch(out, /<script/i);
  assert.doesNotMatch(out, /\son\w+=/i);
  assert.doesNotMatch(out, /(href|src)\s*=\s*["']?\s*javascript:/i);
  assert.doesNotMatch(out, /<iframe|<svg|<form|style=/i);
  // code blocks keep the text, escaped
  assert.match(out, /print\(&quot;&lt;script&gt;&quot;\)|print\("&lt;script&gt;"\)/);
});

test('links get rel=nofollow noopener; images keep https sources and lose others', () => {
  const out = sanitizeDescriptionHtml('<a href="https://x.example/">x</a><img src="https://x.example/a.png" alt="a"><img src="data:image/png;base64,AAAA">').value;
  assert.match(out, /<a href="https:\/\/x.example\/" rel="nofollow noopener noreferrer">x<\/a>/);
  assert.match(out, /<img src="https:\/\/x.example\/a.png" alt="a"/);
  assert.doesNotMatch(out, /data:image/);
});

test('reStructuredText and plain text are shown escaped, as preformatted text', () => {
  const out = renderDescription('Title\n=====\n\n<script>alert(1)</script>', 'text/x-rst').value;
  assert.match(out, /^<pre class="markup text rst">/);
  assert.match(out, /&#60;script&#62;/);
  assert.doesNotMatch(out, /<script/);
  assert.match(renderDescription('a < b', 'text/plain').value, /a &#60; b/);
});

test('the format comes from description_content_type, else a guess', () => {
  assert.equal(descriptionFormat('x', 'text/markdown; charset=UTF-8; variant=GFM'), 'markdown');
  assert.equal(descriptionFormat('x', 'text/x-rst'), 'rst');
  assert.equal(descriptionFormat('# Heading\n\ntext', undefined), 'markdown');
  assert.equal(descriptionFormat('Heading\n=======\n', undefined), 'rst');
  assert.equal(descriptionFormat('just words', undefined), 'plain');
  assert.equal(renderDescription('  ', 'text/markdown').value, '');
});
