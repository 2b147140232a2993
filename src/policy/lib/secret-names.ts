/**
 * Secrets recognised by where they are written rather than by how they look: the secret scanner
 * needs a value that looks random or a known token format, but `AWS_SECRET_ACCESS_KEY: xxxxx` in a
 * ConfigMap or `DB_PASSWORD: abc1` in a container's env is a credential slot in the wrong place,
 * whatever it holds today (placeholders get replaced by the real value in the same place).
 */

/** Names the cloud providers' SDKs read credentials from. Matched on the lower-cased name with `-`/`.` as `_`. */
const CLOUD_CREDENTIALS: readonly RegExp[] = [
  /^aws_secret_access_key$/,
  /^aws_session_token$/,
  /^azure_.*key$/,
  /^azure_client_secret$/,
  /^arm_(client_secret|access_key)$/,
  /^oci_cli_key_content$/,
  /^google_application_credentials$/,
  /^google_credentials$/,
  /^gcp_.*(key|credentials)$/,
  /^alibaba_cloud_access_key_secret$/,
  /^digitalocean_(access_)?token$/,
];

/** Words that make a name a credential slot wherever they stand in it (`SECRET_BLAH`, `my_password`). */
const SENSITIVE_WORDS = new Set(["secret", "token", "password", "passwd", "passphrase", "bearer", "apikey", "pwd"]);

/** Last words that make the name describe or point to a credential instead of holding one. */
const REFERENCE_LAST = new Set(
  ("file path dir name names ref url uri endpoint enabled enable disabled disable length min max type mode ttl expiry expires expiration " +
    "header audience scope host port user username id key_id kid issuer required policy provider method location env var refresh interval timeout").split(" "),
);

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

function normalized(name: string): string {
  return name.toLowerCase().replace(/[-.]/g, "_");
}

/** Why a name marks a credential slot, or undefined. */
export function credentialName(name: string): string | undefined {
  const n = normalized(name);
  if (CLOUD_CREDENTIALS.some((re) => re.test(n))) return "a cloud provider credential";
  const w = words(name);
  const last = w[w.length - 1];
  if (last === undefined || REFERENCE_LAST.has(last)) return undefined;
  const hit = w.find((x) => SENSITIVE_WORDS.has(x));
  return hit ? `a ${hit === "pwd" || hit === "passwd" ? "password" : hit}` : undefined;
}

/** A value that refers to a credential (a path, an env expansion, a template) instead of holding one, or is no value. */
export function isReferenceValue(value: string): boolean {
  const v = value.trim();
  if (v === "") return true;
  // Booleans and plain numbers are settings (`PASSWORD_AUTH: "false"`), not credentials.
  if (/^(?:true|false|yes|no|on|off)$/i.test(v)) return true;
  return /^\$\(|^\$\{|\{\{|^(?:~|\.{0,2})\/[^\s]*$|^file:/.test(v);
}

/**
 * A PEM header of a private key, whatever follows it (a placeholder body still says where a key goes),
 * with three or more dashes as some tools write it.
 */
export const PRIVATE_KEY_PEM = /-{3,}\s*BEGIN\s+(?:[A-Z0-9]+\s+)*PRIVATE\s+KEY(?:\s+BLOCK)?\s*-{3,}/i;
