import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_PYPI_TREE_SETTING, LOCAL_PYPI_TREE_SKIP, localPypiTree, simpleDirFromPipConfig } from './local-pypi-tree.js';

test('the first file://…/simple URL of global.extra-index-url in `pip config list` output', () => {
  const out = "global.break-system-packages='true'\nglobal.extra-index-url='https://example.org/simple file:///srv/py/simple'\nglobal.no-index='false'\n";
  assert.equal(simpleDirFromPipConfig(out), '/srv/py/simple');
  assert.equal(simpleDirFromPipConfig("global.extra-index-url='file:///a/simple/'\n"), '/a/simple');
  assert.equal(simpleDirFromPipConfig("global.index-url='file:///a/simple'\n"), undefined);
  assert.equal(simpleDirFromPipConfig(''), undefined);
});

test(`${LOCAL_PYPI_TREE_SETTING} names the tree (its root or its simple/ directory)`, () => {
  const root = mkdtempSync(join(tmpdir(), 'wh-tree-'));
  try {
    mkdirSync(join(root, 'simple'));
    process.env[LOCAL_PYPI_TREE_SETTING] = join(root, 'simple');
    const tree = localPypiTree();
    assert.ok(tree, LOCAL_PYPI_TREE_SKIP);
    assert.equal(tree.root, root);
    assert.equal(tree.simpleDir, join(root, 'simple'));
    assert.equal(tree.simpleUrl, `file://${root}/simple/`);
    assert.equal(tree.source, LOCAL_PYPI_TREE_SETTING);
    assert.match(LOCAL_PYPI_TREE_SKIP, new RegExp(LOCAL_PYPI_TREE_SETTING));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
