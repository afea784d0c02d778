/** The master: write API, composition root and data directory set-up. */
export { createMasterApp, datadirPaths, type MasterApp, type MasterConfig } from './master-app.js';
export { initDatadir } from './init.js';
export { openSnapshot } from './dump/snapshot.js';
export { exportDump } from './dump/export.js';
export { importDump } from './dump/import.js';
export { importDevpiExport } from './dump/devpi-import.js';
export { backupDatadir, restoreBackup } from './dump/backup.js';
export { Fence, FENCE_META, type FenceState } from './roles/fence.js';
export { knownPeers, probePeers, rememberPeer, PEERS_META } from './roles/peer-probe.js';
export { PromotionRefusedError, askStatus, promoteDatadir, type PromoteOptions, type PromotionEvidence, type PromotionResult } from './roles/promote.js';
export { RejoinRefusedError, rejoinDatadir, type RejoinOptions, type RejoinResult } from './roles/rejoin.js';
