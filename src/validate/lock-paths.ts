/** Where the chart lock lives (src/validate/chart-lock.ts); apart so that help texts load nothing else. */
/** The folder holding the lock, relative to the repository root. */
export const LOCK_DIR = "charts";
export const LOCK_FILE = `${LOCK_DIR}/lock.yaml`;
/** The one command that creates or refreshes the lock. */
export const PULL_COMMAND = "npx homelab charts pull";
