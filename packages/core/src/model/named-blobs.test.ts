import { test } from 'node:test';
import assert from 'node:assert/strict';
import { blobsNamedBy, blobsNamedByState } from './named-blobs.js';
import { keys } from './keys.js';
import { entrypathFor } from './stage-paths.js';
import type { FileEntry, MirrorListRecord, MirrorProjectRecord, ReleaseRecord } from './records.js';

const sha = (c: string): string => c.repeat(64);
const fileKey = (c: string, filename: string): string => keys.file(entrypathFor('alice/dev', sha(c), filename));
const entry = (c: string, extra: Partial<FileEntry> = {}): FileEntry => ({ sha256: sha(c), size: 1, project: 'p', version: '1.0', rel: 'releasefile', modified: 0, ...extra });

test('a release file entry names its blob, a wheel entry also its METADATA blob', () => {
  assert.deepEqual(blobsNamedBy(fileKey('a', 'p-1.0.tar.gz'), entry('a')), [sha('a')]);
  assert.deepEqual(blobsNamedBy(fileKey('b', 'p-1.0-py3-none-any.whl'), entry('b', { metadata_sha256: sha('c') })), [sha('b'), sha('c')]);
});

test('doc zip and test result entries name their blobs', () => {
  assert.deepEqual(blobsNamedBy(fileKey('d', 'p-1.0.doc.zip'), entry('d', { rel: 'doczip' })), [sha('d')]);
  assert.deepEqual(blobsNamedBy(fileKey('a', 'p-1.0.tar.gz.toxresult-20260101000000-0'), entry('e', { rel: 'toxresult' })), [sha('e')]);
});

test('a release names every link blob and METADATA blob, once each', () => {
  const link = (c: string, rel: 'releasefile' | 'doczip' | 'toxresult', metadata?: string) => ({
    rel,
    entrypath: entrypathFor('alice/dev', sha(c), `f-${c}`),
    filename: `f-${c}`,
    sha256: sha(c),
    size: 1,
    uploaded: 0,
    log: [],
    ...(metadata ? { metadata_sha256: sha(metadata) } : {}),
  });
  const record: ReleaseRecord = {
    metadata: { name: 'p', version: '1.0' },
    links: [link('a', 'releasefile', 'c'), link('b', 'releasefile', 'c'), link('d', 'doczip'), link('e', 'toxresult')],
  };
  assert.deepEqual(blobsNamedBy(keys.release('alice/dev', 'p', '1.0'), record), [sha('a'), sha('c'), sha('b'), sha('d'), sha('e')]);
});

test('a mirror list names its stored HTML and JSON pages', () => {
  const list: MirrorListRecord = { html_sha256: sha('1'), json_sha256: sha('2'), html_size: 10, json_size: 20, count: 3, fetched: 0 };
  assert.deepEqual(blobsNamedBy(keys.mirrorList('root/pypi'), list), [sha('1'), sha('2')]);
});

test('users, index configs, projects and mirror project pages name no blobs; nor does a deletion', () => {
  const page: MirrorProjectRecord = {
    name: 'requests',
    links: [{ filename: 'requests-2.0.tar.gz', url: 'https://files.example/requests-2.0.tar.gz', sha256: sha('9'), version: '2.0' }],
    serial: -1,
    fetched: 0,
  };
  assert.deepEqual(blobsNamedBy(keys.mirrorProject('root/pypi', 'requests'), page), []);
  assert.deepEqual(blobsNamedBy(keys.user('alice'), { username: 'alice', created: '' }), []);
  assert.deepEqual(blobsNamedBy(keys.index('alice', 'dev'), { type: 'stage', bases: [] }), []);
  assert.deepEqual(blobsNamedBy(keys.project('alice/dev', 'p'), { name: 'p', display_name: 'P', created: 0 }), []);
  assert.deepEqual(blobsNamedBy(fileKey('a', 'p-1.0.tar.gz'), null), []);
  assert.deepEqual(blobsNamedBy('unknown/key', { sha256: sha('a') }), []);
});

test('an odd file key still keeps its blobs (the kind decides, not the rest of the key)', () => {
  assert.deepEqual(blobsNamedBy('file/alice/dev/not-hex/x/y', entry('a')), [sha('a')]);
});

test('blobsNamedByState is the distinct union over a state', () => {
  const list: MirrorListRecord = { html_sha256: sha('1'), json_sha256: sha('2'), html_size: 1, json_size: 1, count: 0, fetched: 0 };
  const state: Array<[string, unknown]> = [
    [fileKey('a', 'p-1.0.tar.gz'), entry('a')],
    [fileKey('a', 'p-1.0.tar.gz'), entry('a')],
    [keys.mirrorList('root/pypi'), list],
    [keys.user('alice'), { username: 'alice', created: '' }],
  ];
  assert.deepEqual([...blobsNamedByState(state)].sort(), [sha('1'), sha('2'), sha('a')]);
});
