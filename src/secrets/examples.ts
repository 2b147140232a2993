/**
 * The example secrets the repository ships: FAKE values encrypted to the published example recipient
 * (see config.ts), so the tree validates before the operator has a key of their own. Their plaintext is
 * kept here so `homelab secrets init` can re-create them for the operator's key without opening the
 * old files: no key from outside the repository is needed. A file is re-created only while it is still
 * byte for byte what the repository shipped (its sha256 below), so a value someone set is never lost.
 */
import { createHash } from "node:crypto";

/** The example recipient's private key: published, test-only, kept with the test fixtures (their SOURCES.md). */
export const EXAMPLE_KEY_PATH = "test/fixtures/sops/sops-age/key.txt";

export interface ExampleSecret {
  /** Relative to the repository root. */
  readonly path: string;
  /** sha256 of the committed file, as shipped. */
  readonly sha256: string;
  /** The FAKE plaintext it holds. */
  readonly plaintext: string;
}

export const EXAMPLE_SECRETS: readonly ExampleSecret[] = [
  {
    path: "secrets/cloudflared/cloudflared-credentials.sops.yaml",
    sha256: "e58d6242f18c14f9cc4bd4239b63425ff4bf0ff8f3be022cfb7a3f0dea5a8052",
    plaintext: [
      "apiVersion: v1",
      "kind: Secret",
      "metadata:",
      "  name: cloudflared-credentials",
      "  namespace: cloudflared",
      "type: Opaque",
      "stringData:",
      `  credentials.json: '{"AccountTag":"EXAMPLE-ACCOUNT-TAG","TunnelSecret":"EXAMPLE-PLACEHOLDER-NOT-A-SECRET","TunnelID":"00000000-0000-0000-0000-000000000000"}'`,
      "",
    ].join("\n"),
  },
  {
    path: "secrets/velero/velero-s3.sops.yaml",
    sha256: "0d80c8a17f8a43f7e628071c69b97b9c5966ea563bedcdd87a43869ae6ee01d5",
    plaintext: [
      "apiVersion: v1",
      "kind: Secret",
      "metadata:",
      "  name: velero-s3",
      "  namespace: velero",
      "type: Opaque",
      "stringData:",
      "  cloud: |-",
      "    [default]",
      "    aws_access_key_id=EXAMPLE-PLACEHOLDER",
      "    aws_secret_access_key=EXAMPLE-PLACEHOLDER-NOT-A-SECRET",
      "",
    ].join("\n"),
  },
];

/** The shipped example this file still is, if it is one. */
export function shippedExample(path: string, content: string): ExampleSecret | undefined {
  const e = EXAMPLE_SECRETS.find((x) => x.path === path);
  return e && createHash("sha256").update(content).digest("hex") === e.sha256 ? e : undefined;
}
