import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Request, Response } from 'express';
import { FileStore, type Changelog } from '@wheelhouse/changelog';
import { createIndex, mergedReleases, userPrincipal } from '@wheelhouse/core';
import { makeWheel, uploadForm } from './master-app.test-helpers.js';
import { handleLegacyUpload } from './upload/legacy-upload.js';
import { uploadToxResult } from './upload-routes.js';
import { WHEEL_PATH, assertRefused, writeFixture } from './write-routes.test-helpers.js';

let changelog: Changelog;
let files: FileStore;
let dir = '';
before(async () => {
  ({ changelog } = await writeFixture());
  dir = await mkdtemp(join(tmpdir(), 'wh-upload-routes-'));
  files = new FileStore(join(dir, 'files'));
  await changelog.write((tx) => createIndex(tx, 'alice', 'ci', { acl_toxresult_upload: ['alice'] }));
});
after(async () => {
  await changelog.close();
  await rm(dir, { recursive: true, force: true });
});

/** A request carrying `form` as twine sends it, without a socket. */
async function formRequest(form: Blob): Promise<Request> {
  const encoded = new globalThis.Request('http://wh.test/', { method: 'POST', body: form });
  const req = Readable.from([Buffer.from(await encoded.arrayBuffer())]) as unknown as Request;
  (req as unknown as { headers: Record<string, string> }).headers = { 'content-type': encoded.headers.get('content-type')! };
  return req;
}

/** Records what the upload handler answers. */
function recordingResponse(): Response & { recorded: { status?: number; headers: Record<string, string> } } {
  const recorded: { status?: number; headers: Record<string, string> } = { headers: {} };
  const res = {
    recorded,
    setHeader(name: string, value: string) {
      recorded.headers[name.toLowerCase()] = value;
      return res;
    },
    status(code: number) {
      recorded.status = code;
      return res;
    },
    end() {
      return res;
    },
  };
  return res as unknown as Response & { recorded: typeof recorded };
}

describe('upload routes', () => {
  test('a test result is stored for a release file and linked to it', async () => {
    const r = await uploadToxResult({ changelog, files }, userPrincipal('ci-bot'), { user: 'alice', index: 'dev', path: WHEEL_PATH }, { testenvs: {} });
    assert.equal(r.status, 200);
    assert.match(String(r.envelope.result), new RegExp(`^alice/dev/\\+f/${WHEEL_PATH.replace(/\./g, '\\.')}\\.toxresult-\\d{14}-0#sha256=[0-9a-f]{64}$`));
    const links = mergedReleases(changelog, 'alice/dev', 'demo')[0]!.record.links;
    assert.deepEqual(links.map((l) => l.rel), ['releasefile', 'toxresult']);
  });

  test('a test result is refused without the acl_toxresult_upload right, and without a body', async () => {
    await assertRefused(changelog, uploadToxResult({ changelog, files }, userPrincipal('bob'), { user: 'alice', index: 'ci', path: 'x/y/z.whl' }, {}), 403, /No permission to upload tox results/);
    await assertRefused(changelog, uploadToxResult({ changelog, files }, userPrincipal('alice'), { user: 'alice', index: 'dev', path: WHEEL_PATH }, undefined), 400);
  });

  test('a legacy file_upload form is committed with its serial', async () => {
    const wheel = makeWheel('fresh', '2.0');
    const res = recordingResponse();
    await handleLegacyUpload({ changelog, files, maxFileBytes: 1 << 20 }, await formRequest(uploadForm('fresh', '2.0', wheel.filename, wheel.bytes)), res, 'alice/dev', userPrincipal('alice'));
    assert.equal(res.recorded.status, 200);
    assert.equal(Number(res.recorded.headers['x-devpi-serial']), changelog.head);
    assert.deepEqual(mergedReleases(changelog, 'alice/dev', 'fresh').map((x) => x.version), ['2.0']);
  });

  test('a legacy upload by a user without upload right is 403, anonymous 401, before the form is read', async () => {
    const wheel = makeWheel('fresh', '3.0');
    const upload = async (who: string | undefined) =>
      handleLegacyUpload({ changelog, files, maxFileBytes: 1 << 20 }, await formRequest(uploadForm('fresh', '3.0', wheel.filename, wheel.bytes)), recordingResponse(), 'alice/dev', who === undefined ? undefined : userPrincipal(who));
    await assertRefused(changelog, upload('bob'), 403, /no permission to upload/);
    await assertRefused(changelog, upload(undefined), 401);
  });
});
