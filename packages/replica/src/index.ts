/** The replica: changelog tailer, file replication, write forwarding, composition root. */
export * from './replica-app.js';
export * from './write-forwarder.js';
export * from './generation.js';
export * from './mirror-via-master.js';
