// The machine's local PEP 503 tree (a directory `<root>/simple/<project>/index.html` with the files
// beside it), found through ONE setting: the environment variable WHEELHOUSE_TEST_PYPI_TREE (the
// tree's root or its `simple` directory), else the first `file://…/simple` URL in `pip config
// list`'s `global.extra-index-url` (how this machine names its tree). Tests that need it skip with
// `LOCAL_PYPI_TREE_SKIP` when neither is there.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The environment variable naming the local PEP 503 tree. */
export const LOCAL_PYPI_TREE_SETTING = 'WHEELHOUSE_TEST_PYPI_TREE';

/** Skip reason for tests that need the tree when it was not found. */
export const LOCAL_PYPI_TREE_SKIP =
  `no local PEP 503 tree: set ${LOCAL_PYPI_TREE_SETTING} to its root (or its simple/ directory), ` +
  'or name it as a file://…/simple URL in pip\'s global.extra-index-url';

/** A PEP 503 tree on disk. */
export interface LocalPypiTree {
  /** The tree's root: file URLs of the pages resolve against it. */
  readonly root: string;
  /** `<root>/simple`: the PEP 503 project list and project pages. */
  readonly simpleDir: string;
  /** `file://<root>/simple/` for pip's --index-url. */
  readonly simpleUrl: string;
  /** Where the location came from: the setting, or pip's configuration. */
  readonly source: string;
}

/** The first `file://…/simple` URL of `global.extra-index-url` in `pip config list` output. */
export function simpleDirFromPipConfig(pipConfigList: string): string | undefined {
  for (const line of pipConfigList.split('\n')) {
    const m = /^global\.extra-index-url='?(.*?)'?$/.exec(line.trim());
    if (!m) continue;
    for (const url of (m[1] ?? '').split(/\s+/)) {
      if (/^file:\/\/.*\/simple\/?$/.test(url)) return fileURLToPath(url.replace(/\/$/, ''));
    }
  }
  return undefined;
}

function treeAt(dir: string, source: string): LocalPypiTree | undefined {
  const abs = resolve(dir).replace(/\/$/, '');
  const simpleDir = basename(abs) === 'simple' ? abs : resolve(abs, 'simple');
  if (!existsSync(simpleDir)) return undefined;
  return { root: dirname(simpleDir), simpleDir, simpleUrl: `file://${simpleDir}/`, source };
}

function pipConfigList(): string {
  for (const cmd of [['pip', ['config', 'list']], ['python3', ['-m', 'pip', 'config', 'list']]] as const) {
    try {
      return execFileSync(cmd[0], [...cmd[1]], { encoding: 'utf8', timeout: 15_000, stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      // try the next way to ask pip
    }
  }
  return '';
}

let cached: { tree: LocalPypiTree | undefined } | undefined;

/**
 * The local PEP 503 tree, or undefined when the setting is unset and pip names none (or the
 * directory named does not exist). Looked up once per process.
 */
export function localPypiTree(): LocalPypiTree | undefined {
  if (cached) return cached.tree;
  const setting = process.env[LOCAL_PYPI_TREE_SETTING];
  let tree: LocalPypiTree | undefined;
  if (setting) tree = treeAt(setting, LOCAL_PYPI_TREE_SETTING);
  else {
    const fromPip = simpleDirFromPipConfig(pipConfigList());
    if (fromPip) tree = treeAt(fromPip, 'pip config list: global.extra-index-url');
  }
  cached = { tree };
  return tree;
}
