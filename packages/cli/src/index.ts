/** The CLI's settings layer, for tools that start Wheelhouse nodes in-process or check a config file. */
export {
  masterSettingsSchema,
  replicaSettingsSchema,
  proxySettingsSchema,
  clusterSettingsSchema,
  ROLE_SCHEMAS,
  DEFAULT_DATADIR,
  LOG_LEVELS,
  settingKeys,
  type Role,
  type RoleSettings,
  type MasterSettings,
  type ReplicaSettings,
  type ProxySettings,
  type ClusterSettings,
  type LogLevel,
} from './settings/role-schemas.js';
export { loadSettings, envName, type SettingsSources } from './settings/load-settings.js';
export { SettingsError } from './settings/settings-error.js';
export { addSettingFlags, givenFlags, SETTING_FLAGS, type GivenFlags } from './settings/setting-flags.js';
export { parseSize, parseDuration, parseInteger, parseBoolean, parseList, ValueError, type ValueKind } from './settings/flag-values.js';
export { masterConfig, replicaConfig, proxyConfig } from './settings/node-configs.js';
export { switchToMaster, type SwitchToMasterOptions, type SwitchedToMaster } from './role-switch.js';
