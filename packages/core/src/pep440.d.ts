declare module '@renovatebot/pep440' {
  /** -1, 0 or 1 by PEP 440 ordering; throws on an invalid version. */
  export function compare(a: string, b: string): number;
  /** The normalised version, or null when `v` is not a PEP 440 version. */
  export function valid(v: string): string | null;
  export function explain(v: string): { is_prerelease: boolean; public: string } | null;
}
