// @wheelhouse/testing: what e2e scenarios, benchmarks and package unit tests share.
//   WheelhouseProcess / TestRoot / LoopbackCluster   real bin/wheelhouse processes
//   waitFor / notYet                                  one bounded poll
//   buildWheel / buildSdist / legacyUploadBody        distributions and upload bodies in memory
//   repoRoot / sharedDataDir / localPypiTree          where the test data is
export { ApiClient, authHeaders, describeResponse, messageOf, resultOf, serialOf, type ApiResponse, type Credentials, type RequestOptions } from './api-client.js';
export { buildSdist, buildWheel, coreMetadata, opaqueSdist, sha256Hex, tarGz, wheelDistName, type Distribution, type WheelOptions } from './distributions.js';
export { FailoverCluster, type FailoverClusterOptions } from './failover-cluster.js';
export { freePort } from './free-port.js';
export { LOCAL_PYPI_TREE_SETTING, LOCAL_PYPI_TREE_SKIP, localPypiTree, simpleDirFromPipConfig, type LocalPypiTree } from './local-pypi-tree.js';
export { LoopbackCluster, withClusterLogs, type LoopbackClusterOptions } from './loopback-cluster.js';
export { legacyUploadBody, multipartBody, twineFields, type FormFile, type MultipartBody, type UploadFields } from './multipart.js';
export { cpuSeconds } from './process-cpu.js';
export { run, type RunOptions, type RunResult } from './process-run.js';
export { proxyBackends, waitProxyBackends, type ProxyBackendStatus } from './proxy-backends.js';
export { repoRoot, sharedDataDir, sharedDataFile, wheelhouseBin } from './repo-paths.js';
export { RssSampler } from './rss-sampler.js';
export { crc32, storedZip, type ZipEntry } from './stored-zip.js';
export { TestRoot, type NodeOptions } from './test-root.js';
export { notYet, sleep, waitFor, WaitTimeoutError, type NotYet, type WaitOptions } from './wait-for.js';
export { WheelhouseProcess, wheelhouseInit, type NodeRole, type NodeSpec, type StartOptions, type StopResult } from './wheelhouse-process.js';
export { issueServerCert, makeTestCa, type ServerCert, type TestCa } from './test-ca.js';
export { ADMIN_DN, GROUPS, PEOPLE, Slapd, slapdMissing, SUFFIX, type LdapUser } from './slapd.js';
