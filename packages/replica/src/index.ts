/** The replica: changelog tailer, file replication, write forwarding, composition root. */
export { createReplicaApp, type ReplicaApp, type ReplicaConfig } from './replica-app.js';
