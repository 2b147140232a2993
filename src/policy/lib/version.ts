/** `"1.34"` or `"v1.34.2"` → 134-style comparable number (major*1000 + minor). */
export function minorOf(version: string): number {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  if (!m) return Number.NaN;
  return Number(m[1]) * 1000 + Number(m[2]);
}

/** Whether the target version is at least `since` (both like `"1.29"`). */
export function atLeast(target: string, since: string): boolean {
  return minorOf(target) >= minorOf(since);
}
