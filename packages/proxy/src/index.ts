/** The health-checked reverse proxy in front of a Wheelhouse cluster. */
export * from './proxy-server.js';
export * from './backends.js';
export * from './policy.js';
export * from './health-checks.js';
