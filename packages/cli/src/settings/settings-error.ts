/** Settings a role cannot start with; the CLI prints `wheelhouse <role>: <message>` and exits 2. */
import type { Role } from './role-schemas.js';

/** Every problem found in one role's settings (flags, environment, config file), listed at once. */
export class SettingsError extends Error {
  /**
   * @param role the command whose settings were refused
   * @param problems one sentence each, e.g. `--max-file-bytes does not apply to a replica`
   */
  constructor(
    readonly role: Role,
    readonly problems: readonly string[],
  ) {
    super(`invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}
