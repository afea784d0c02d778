/** The master: write API, composition root and data directory set-up. */
export * from './master-app.js';
export * from './init.js';
export * from './write-api.js';
export * from './upload/upload-form.js';
export * from './upload/legacy-upload.js';

export * from './dump/dump-format.js';
export * from './dump/snapshot.js';
export * from './dump/export.js';
export * from './dump/import.js';
export * from './dump/devpi-import.js';
export * from './dump/build-store.js';
export * from './dump/backup.js';
export * from './mirror/upstream.js';
export * from './mirror/mirror-service.js';
