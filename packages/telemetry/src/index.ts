/**
 * @sky-palette/telemetry: the instrumentation kit every Node app of the homelab uses (see ../README.md).
 */
export {};
