/**
 * Build-time validation of rendered Kubernetes objects.
 *
 * Every object is checked against the schema of its apiVersion+kind taken from the published
 * `kubernetes-models` packages (core kinds, Argo CD, cert-manager, prometheus-operator) or from a
 * schema registered with {@link registerSchema} (Velero's, generated from its CRDs: ./velero/). Those validators check types, enums, patterns and
 * required fields but accept unknown fields, so the validator runs on a Proxy view of the object
 * that records which properties it read: a property it never read on an object whose other
 * properties it did read is a field the schema does not know. On top of that come the structural
 * rules the API server would enforce on apply (scope, names, labels) and a duplicate check across
 * all rendered files.
 *
 * Models are loaded per kind, only for the kinds a build contains. Current model packages are ES
 * modules only, so callers await {@link loadSchemas} with the objects before the synchronous
 * {@link validateObjects}; packages with a CommonJS build also load lazily without it.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { InternalError, type Issue } from "../errors.ts";
import { isPlainObject, objectRef, type K8sObject, type LocatedObject } from "../model/k8s.ts";

/** One error in the format of an ajv-compiled validator (what kubernetes-models and crd-generate emit). */
export interface SchemaError {
  readonly instancePath: string;
  readonly keyword?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
}

/**
 * A schema validator for one kind: either an ajv-style function (returns false and leaves its
 * findings in `.errors`) or a function that throws an error carrying `.errors`. It must read the
 * object through ordinary property access so that unknown fields can be detected.
 */
export type SchemaValidateFn = ((data: unknown) => boolean | void) & { errors?: readonly SchemaError[] | null };

export interface RegisterSchemaOptions {
  /**
   * Whether objects of this kind live outside namespaces.
   * @default false
   */
  readonly clusterScoped?: boolean;
}

interface SchemaEntry {
  readonly validate: (data: unknown) => SchemaError[];
  /** undefined when the scope is not known (then the scope rule is not applied). */
  readonly clusterScoped: boolean | undefined;
}

const registered = new Map<string, SchemaEntry>();
const modelCache = new Map<string, SchemaEntry | null>();
const require = createRequire(import.meta.url);

/**
 * Makes `apiVersion`+`kind` known to {@link validateObjects}, for kinds without a published model
 * (e.g. models generated from a CRD). A registered schema wins over a published model.
 */
export function registerSchema(
  apiVersion: string,
  kind: string,
  validateFn: SchemaValidateFn,
  options: RegisterSchemaOptions = {},
): void {
  registered.set(typeKey(apiVersion, kind), {
    validate: (data) => runValidator(validateFn, data),
    clusterScoped: options.clusterScoped ?? false,
  });
}

function typeKey(apiVersion: string, kind: string): string {
  return `${apiVersion} ${kind}`;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.lastIndexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

function runValidator(fn: SchemaValidateFn, data: unknown): SchemaError[] {
  try {
    const ok = fn(data);
    if (ok === false) return [...(fn.errors ?? [{ instancePath: "", message: "is invalid" }])];
    return [];
  } catch (err) {
    const errors = (err as { errors?: unknown }).errors;
    if (Array.isArray(errors)) return errors as SchemaError[];
    throw err;
  }
}

// CRD groups whose models live in a separate package; every other group is looked up in
// kubernetes-models, whose folders are named after the API group.
function modelPackage(group: string): string | undefined {
  if (group === "argoproj.io") return "@kubernetes-models/argo-cd";
  if (group === "cert-manager.io" || group.endsWith(".cert-manager.io") || group === "certmanager.k8s.io") {
    return "@kubernetes-models/cert-manager";
  }
  if (group === "monitoring.coreos.com") return "@kubernetes-models/prometheus-operator";
  if (group === "" || group.endsWith(".k8s.io") || !group.includes(".")) return "kubernetes-models";
  return undefined;
}

interface ModelClass {
  readonly apiVersion?: unknown;
  readonly kind?: unknown;
  readonly prototype: { validate(this: unknown): void };
}

/** The module specifier of the published model for apiVersion+kind, if a package could have one. */
function modelSpecifier(apiVersion: string, kind: string): string | undefined {
  const group = groupOf(apiVersion);
  const version = apiVersion.slice(apiVersion.lastIndexOf("/") + 1);
  // The specifier is built from rendered input: keep it to plain identifiers.
  if (!/^([a-z0-9]([a-z0-9.-]*[a-z0-9])?)?$/.test(group) || !/^v\d+[a-z0-9]*$/.test(version) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) {
    return undefined;
  }
  const pkg = modelPackage(group);
  if (!pkg) return undefined;
  return group ? `${pkg}/${group}/${version}/${kind}` : `${pkg}/${version}/${kind}`;
}

/** A module of validators the repository generates from a CRD: its apiVersion and a validator per kind. */
interface LocalModels {
  readonly apiVersion: string;
  readonly kinds: Readonly<Record<string, SchemaValidateFn>>;
}

/**
 * CRD groups without published models whose validators the repository generates from the CRDs itself.
 * Loaded only when a build renders the group; its kinds are then registered ({@link registerSchema}). The
 * modules know nothing of this one, so the schema layer has no import circle.
 */
const LOCAL_MODELS: Readonly<Record<string, () => Promise<LocalModels>>> = {
  "velero.io": async () => {
    const m = await import("./velero/index.ts");
    return { apiVersion: m.VELERO_API_VERSION, kinds: m.VELERO_KINDS as Record<string, SchemaValidateFn> };
  },
};

async function registerLocal(group: string): Promise<void> {
  const { apiVersion, kinds } = await LOCAL_MODELS[group]!();
  for (const [kind, fn] of Object.entries(kinds)) registerSchema(apiVersion, kind, fn);
}

/**
 * The published models bundled next to the CLI (scripts/build-cli.mjs writes dist/models/: one module per
 * kind instead of one per schema, re2-wasm replaced by ./re2-compat.ts), when this code runs from that
 * bundle; undefined when it runs from the sources (tests through tsx), which load node_modules directly.
 * Both hold the same generated validators (test/validate/model-bundle.test.ts).
 */
let bundledModels: { readonly dir: URL; readonly specs: ReadonlySet<string> } | null | undefined;

function modelBundle(): { readonly dir: URL; readonly specs: ReadonlySet<string> } | null {
  if (bundledModels !== undefined) return bundledModels;
  bundledModels = null;
  // The schema layer sits in one of the bundle's chunks (dist/chunks/) or in its entry (dist/).
  for (const rel of ["../models/", "./models/"]) {
    const dir = new URL(rel, import.meta.url);
    let specs: unknown;
    try {
      specs = JSON.parse(readFileSync(new URL("kinds.json", dir), "utf8"));
    } catch {
      continue;
    }
    if (Array.isArray(specs)) bundledModels = { dir, specs: new Set(specs.filter((x): x is string => typeof x === "string")) };
    break;
  }
  return bundledModels;
}

/** The module of the model `spec`: the bundled one when there is one, else the package's own. */
async function importModel(spec: string): Promise<Record<string, unknown>> {
  const bundle = modelBundle();
  if (bundle?.specs.has(spec)) {
    try {
      return (await import(new URL(`${spec}.js`, bundle.dir).href)) as Record<string, unknown>;
    } catch (err) {
      // A bundle being replaced under a running process (build-cli moves the models into the new one):
      // the package has the same model.
      if (!isNotFound(err)) throw err;
    }
  }
  return (await import(spec)) as Record<string, unknown>;
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND" || code === "ERR_PACKAGE_PATH_NOT_EXPORTED";
}

function entryFromModule(mod: Record<string, unknown>, apiVersion: string, kind: string): SchemaEntry | null {
  // Files exist for nested types too (v1/PodSpec); only a top-level model carries apiVersion+kind.
  const candidate: unknown = mod[kind];
  if (typeof candidate !== "function") return null;
  const model = candidate as unknown as ModelClass;
  if (model.apiVersion !== apiVersion || model.kind !== kind) return null;
  return {
    validate: (data) => {
      try {
        model.prototype.validate.call(data);
        return [];
      } catch (err) {
        const errors = (err as { errors?: unknown }).errors;
        if (Array.isArray(errors)) return errors as SchemaError[];
        throw err;
      }
    },
    clusterScoped: CLUSTER_SCOPED.has(`${groupOf(apiVersion)}/${kind}`),
  };
}

/**
 * Loads the models of every kind in `objs` ahead of {@link validateObjects}. Required when the
 * model packages are ES modules only (kubernetes-models >= 5), which cannot always be loaded
 * synchronously; harmless otherwise. Only the modules of the kinds present are imported.
 */
export async function loadSchemas(objs: readonly LocatedObject[]): Promise<void> {
  const wanted = new Map<string, { apiVersion: string; kind: string }>();
  const local = new Set<string>();
  for (const { object } of objs) {
    if (!isPlainObject(object) || typeof object.apiVersion !== "string" || typeof object.kind !== "string") continue;
    if (LOCAL_MODELS[groupOf(object.apiVersion)]) local.add(groupOf(object.apiVersion));
    const key = typeKey(object.apiVersion, object.kind);
    if (!registered.has(key) && !modelCache.has(key)) wanted.set(key, { apiVersion: object.apiVersion, kind: object.kind });
  }
  await Promise.all([...local].map(registerLocal));
  for (const key of [...wanted.keys()]) if (registered.has(key)) wanted.delete(key);
  await Promise.all(
    [...wanted].map(async ([key, { apiVersion, kind }]) => {
      const spec = modelSpecifier(apiVersion, kind);
      let entry: SchemaEntry | null = null;
      if (spec) {
        try {
          entry = entryFromModule(await importModel(spec), apiVersion, kind);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      modelCache.set(key, entry);
    }),
  );
}

function lookupSchema(apiVersion: string, kind: string): SchemaEntry | undefined {
  const key = typeKey(apiVersion, kind);
  const reg = registered.get(key);
  if (reg) return reg;
  const cached = modelCache.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const spec = modelSpecifier(apiVersion, kind);
  const mod = spec ? requireModel(spec) : null;
  const entry = mod ? entryFromModule(mod, apiVersion, kind) : null;
  modelCache.set(key, entry);
  return entry ?? undefined;
}

/**
 * Loads a model synchronously: the CommonJS build where the package has one, else the ES module
 * through require(esm) (Node >= 20.19). The latter fails under loaders that rewrite ES modules
 * into CommonJS (tsx); then {@link loadSchemas} has to run first.
 */
function requireModel(spec: string): Record<string, unknown> | null {
  try {
    return require(spec) as Record<string, unknown>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "MODULE_NOT_FOUND") return null;
    if (code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw err;
  }
  let file: string;
  try {
    file = fileURLToPath(import.meta.resolve(spec));
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
  if (!existsSync(file)) return null;
  try {
    return require(file) as Record<string, unknown>;
  } catch (err) {
    throw new InternalError(
      `cannot load the schema model ${spec} synchronously (${(err as Error).message}); ` +
        `await loadSchemas(objects) before validateObjects(objects)`,
    );
  }
}

/** group/kind of every cluster-scoped kind the published models cover. */
const CLUSTER_SCOPED = new Set([
  "/Namespace",
  "/Node",
  "/PersistentVolume",
  "/ComponentStatus",
  "rbac.authorization.k8s.io/ClusterRole",
  "rbac.authorization.k8s.io/ClusterRoleBinding",
  "apiextensions.k8s.io/CustomResourceDefinition",
  "apiregistration.k8s.io/APIService",
  "scheduling.k8s.io/PriorityClass",
  "storage.k8s.io/StorageClass",
  "storage.k8s.io/CSIDriver",
  "storage.k8s.io/CSINode",
  "storage.k8s.io/VolumeAttachment",
  "storage.k8s.io/VolumeAttributesClass",
  "networking.k8s.io/IngressClass",
  "networking.k8s.io/IPAddress",
  "networking.k8s.io/ServiceCIDR",
  "node.k8s.io/RuntimeClass",
  "admissionregistration.k8s.io/MutatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingAdmissionPolicy",
  "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding",
  "admissionregistration.k8s.io/MutatingAdmissionPolicy",
  "admissionregistration.k8s.io/MutatingAdmissionPolicyBinding",
  "certificates.k8s.io/CertificateSigningRequest",
  "certificates.k8s.io/ClusterTrustBundle",
  "flowcontrol.apiserver.k8s.io/FlowSchema",
  "flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration",
  "authentication.k8s.io/TokenReview",
  "authentication.k8s.io/SelfSubjectReview",
  "authorization.k8s.io/SubjectAccessReview",
  "authorization.k8s.io/SelfSubjectAccessReview",
  "authorization.k8s.io/SelfSubjectRulesReview",
  "resource.k8s.io/DeviceClass",
  "resource.k8s.io/ResourceSlice",
  "cert-manager.io/ClusterIssuer",
  "certmanager.k8s.io/ClusterIssuer",
  "awspca.cert-manager.io/AWSPCAClusterIssuer",
  "policy.cert-manager.io/CertificateRequestPolicy",
  "trust.cert-manager.io/Bundle",
]);

// ---------------------------------------------------------------------------------------------
// Unknown-field detection

interface Access {
  readonly gets: Set<string>;
  enumerated: boolean;
}

/** A copy of a JSON-like tree, so proxies never meet frozen or exotic objects of the caller. */
function plainCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(plainCopy);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    // Undefined values never reach the rendered YAML, so they are not fields either.
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = plainCopy(x);
    return out;
  }
  return v;
}

/**
 * Wraps `root` so that every property read and key enumeration on each object node is recorded.
 * Plain maps, not weak ones: the records live only as long as one object's validation.
 */
function tracked(root: object): { view: object; access: Map<object, Access> } {
  const access = new Map<object, Access>();
  const proxies = new Map<object, object>();
  const wrap = (node: object): object => {
    const existing = proxies.get(node);
    if (existing) return existing;
    const rec: Access = { gets: new Set(), enumerated: false };
    access.set(node, rec);
    const note = (key: string | symbol): void => {
      if (typeof key === "string") rec.gets.add(key);
    };
    const proxy = new Proxy(node, {
      get(target, key, receiver) {
        note(key);
        const v: unknown = Reflect.get(target, key, receiver);
        return typeof v === "object" && v !== null ? wrap(v) : v;
      },
      has(target, key) {
        note(key);
        return Reflect.has(target, key);
      },
      getOwnPropertyDescriptor(target, key) {
        note(key);
        return Reflect.getOwnPropertyDescriptor(target, key);
      },
      ownKeys(target) {
        rec.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(node, proxy);
    return proxy;
  };
  return { view: wrap(root), access };
}

/**
 * Field names the published validators never read although the models declare them: their
 * generator drops every schema keyword named `description` and every `x-` extension, which also
 * removes the properties of those names (PriorityClass.description, AppProject.spec.description,
 * a CRD schema's x-kubernetes-preserve-unknown-fields). They cannot be told from typos here.
 */
function neverRead(key: string): boolean {
  return key === "description" || key.startsWith("x-kubernetes-");
}

/**
 * Keys of object nodes the validator inspected field by field without ever reading them.
 * Nodes it enumerated are maps (labels, data, resource lists); nodes it never touched are
 * free-form (x-kubernetes-preserve-unknown-fields) and are left alone with everything below them.
 */
function unknownFields(node: unknown, access: Map<object, Access>, segs: (string | number)[], out: string[]): void {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      segs.push(i);
      unknownFields(node[i], access, segs, out);
      segs.pop();
    }
    return;
  }
  if (!isPlainObject(node)) return;
  const rec = access.get(node);
  if (!rec || (rec.gets.size === 0 && !rec.enumerated)) return;
  // The path is shared down the walk (pushed and popped) and spelled out only for an unknown field.
  for (const key of Object.keys(node)) {
    segs.push(key);
    if (!rec.enumerated && !rec.gets.has(key)) {
      if (!neverRead(key)) out.push(segs.map((x) => `/${typeof x === "number" ? x : escapePointer(x)}`).join(""));
    } else unknownFields(node[key], access, segs, out);
    segs.pop();
  }
}

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

/**
 * ajv reports each failed oneOf/anyOf branch before the oneOf/anyOf error itself; fold those
 * into one finding ("must be string or integer" for an IntOrString given a map).
 */
function foldAlternatives(errors: readonly SchemaError[]): SchemaError[] {
  const out: SchemaError[] = [];
  for (const e of errors) {
    if (e.keyword !== "oneOf" && e.keyword !== "anyOf") {
      out.push(e);
      continue;
    }
    const under = (x: SchemaError): boolean => x.instancePath === e.instancePath || x.instancePath.startsWith(e.instancePath + "/");
    const branches: SchemaError[] = [];
    while (out.length > 0 && under(out[out.length - 1]!)) branches.unshift(out.pop()!);
    const types = branches.every((b) => b.keyword === "type" && b.instancePath === e.instancePath)
      ? branches.map((b) => String(b.params?.type))
      : [];
    let message: string;
    if (branches.length > 0 && types.length === branches.length) {
      message = `must be ${types.join(" or ")}`;
    } else if (e.keyword === "oneOf" && e.params?.passingSchemas != null) {
      message = "matches more than one of the allowed shapes";
    } else {
      const detail = branches.map((b) => `${b.instancePath.slice(e.instancePath.length) || "/"} ${b.message ?? b.keyword}`);
      message = `must match ${e.keyword === "oneOf" ? "exactly one" : "one"} of the allowed shapes` + (detail.length ? ` (${detail.join("; ")})` : "");
    }
    out.push({ instancePath: e.instancePath, keyword: "alternatives", message });
  }
  return out;
}

function describeError(e: SchemaError): { path: string; message: string; check: string } {
  const params = e.params ?? {};
  if (e.keyword === "additionalProperties" && typeof params.additionalProperty === "string") {
    return {
      path: `${e.instancePath}/${escapePointer(params.additionalProperty)}`,
      message: "unknown field (not in the schema)",
      check: "unknown-field",
    };
  }
  let message = e.message ?? ajvMessage(e.keyword, params) ?? `fails ${e.keyword ?? "schema"} rule`;
  if (e.keyword === "enum" && Array.isArray(params.allowedValues)) {
    message += `: ${params.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
  } else if (e.keyword === "pattern" && typeof params.pattern === "string") {
    message = `must match pattern ${params.pattern}`;
  }
  return { path: e.instancePath, message, check: "schema" };
}

/**
 * ajv's own wording for validators compiled without messages (the generated Velero ones), so that a
 * finding reads the same whichever model produced it.
 */
function ajvMessage(keyword: string | undefined, params: Record<string, unknown>): string | undefined {
  switch (keyword) {
    case "required":
      return `must have required property ${String(params.missingProperty)}`;
    case "type":
      return `must be ${String(params.type)}`;
    case "enum":
      return "must be equal to one of the allowed values";
    case "format":
      return `must match format "${String(params.format)}"`;
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return `must be ${String(params.comparison)} ${String(params.limit)}`;
    case "minLength":
    case "maxLength":
      return `must NOT have ${keyword === "minLength" ? "fewer" : "more"} than ${String(params.limit)} characters`;
    case "minItems":
    case "maxItems":
      return `must NOT have ${keyword === "minItems" ? "fewer" : "more"} than ${String(params.limit)} items`;
    default:
      return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Structural rules

const LABEL_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function dnsLabel(s: string): string | undefined {
  if (s.length > 63) return "must be at most 63 characters";
  if (!LABEL_1123.test(s)) return "must be an RFC 1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit)";
  return undefined;
}

function dns1035Label(s: string): string | undefined {
  if (s.length > 63) return "must be at most 63 characters";
  if (!LABEL_1035.test(s)) return "must be an RFC 1035 label (lowercase letters, digits and '-', starting with a letter, ending with a letter or digit)";
  return undefined;
}

function dnsSubdomain(s: string): string | undefined {
  if (s.length > 253) return "must be at most 253 characters";
  if (!SUBDOMAIN.test(s)) return "must be an RFC 1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)";
  return undefined;
}

// RBAC objects only need to be usable as one URL path segment (e.g. `system:aggregate-to-admin`).
function pathSegment(s: string): string | undefined {
  if (s === "." || s === "..") return `may not be '${s}'`;
  if (/[/%]/.test(s)) return "may not contain '/' or '%'";
  return undefined;
}

/** The rule the API server applies to metadata.name, by group/kind. */
function nameRule(group: string, kind: string): (s: string) => string | undefined {
  if (group === "" && kind === "Namespace") return dnsLabel;
  if (group === "" && kind === "Service") return dns1035Label;
  if (group === "rbac.authorization.k8s.io" && /^(Cluster)?Role(Binding)?$/.test(kind)) return pathSegment;
  return dnsSubdomain;
}

function labelKey(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined) {
    const p = dnsSubdomain(prefix);
    if (p) return `prefix "${prefix}" ${p}`;
  }
  if (name.length === 0 || name.length > 63) return `name part "${name}" must be 1 to 63 characters`;
  if (!QUALIFIED_NAME.test(name)) {
    return `name part "${name}" must consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

function labelValue(value: unknown): string | undefined {
  if (typeof value !== "string") return "must be a string";
  if (value.length > 63) return "must be at most 63 characters";
  if (value !== "" && !QUALIFIED_NAME.test(value)) {
    return "must be empty or consist of letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  }
  return undefined;
}

/** Where objects carry label maps (their own, their pod templates', their selectors). */
const LABEL_MAPS: readonly (readonly string[])[] = [
  ["metadata", "labels"],
  ["spec", "selector", "matchLabels"],
  ["spec", "template", "metadata", "labels"],
  ["spec", "jobTemplate", "spec", "template", "metadata", "labels"],
  ["spec", "jobTemplate", "metadata", "labels"],
];

function at(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

function structuralProblems(obj: K8sObject, group: string, scope: boolean | undefined): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  const md = obj.metadata as unknown;
  if (!isPlainObject(md)) {
    out.push({ path: "/metadata", message: "metadata is missing" });
    return out;
  }
  const name = md.name;
  if (typeof name !== "string" || name === "") {
    out.push({ path: "/metadata/name", message: "metadata.name is missing" });
  } else {
    const problem = nameRule(group, obj.kind)(name);
    if (problem) out.push({ path: "/metadata/name", message: `name "${name}" ${problem}` });
  }
  const ns = md.namespace;
  if (scope === true && ns !== undefined) {
    out.push({ path: "/metadata/namespace", message: `${obj.kind} is cluster-scoped and must not carry a namespace` });
  } else if (scope === false && (typeof ns !== "string" || ns === "")) {
    out.push({ path: "/metadata/namespace", message: `${obj.kind} is namespaced and needs metadata.namespace` });
  }
  if (typeof ns === "string" && ns !== "") {
    const problem = dnsLabel(ns);
    if (problem) out.push({ path: "/metadata/namespace", message: `namespace "${ns}" ${problem}` });
  }
  for (const mapPath of LABEL_MAPS) {
    const labels = at(obj, mapPath);
    if (!isPlainObject(labels)) continue;
    const base = "/" + mapPath.join("/");
    for (const [k, v] of Object.entries(labels)) {
      const kp = labelKey(k);
      if (kp) out.push({ path: `${base}/${escapePointer(k)}`, message: `label key "${k}": ${kp}` });
      const vp = labelValue(v);
      if (vp) out.push({ path: `${base}/${escapePointer(k)}`, message: `label value ${JSON.stringify(v)}: ${vp}` });
    }
  }
  const annotations = md.annotations;
  if (isPlainObject(annotations)) {
    for (const k of Object.keys(annotations)) {
      const kp = labelKey(k);
      if (kp) out.push({ path: `/metadata/annotations/${escapePointer(k)}`, message: `annotation key "${k}": ${kp}` });
    }
  }
  if (group === "apiextensions.k8s.io" && obj.kind === "CustomResourceDefinition" && typeof name === "string") {
    const spec = obj.spec;
    const plural = at(spec, ["names", "plural"]);
    const crdGroup = at(spec, ["group"]);
    if (typeof plural === "string" && typeof crdGroup === "string" && name !== `${plural}.${crdGroup}`) {
      out.push({ path: "/metadata/name", message: `a CustomResourceDefinition must be named "${plural}.${crdGroup}"` });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/**
 * Validates rendered objects: schema (types, enums, required), unknown fields, scope, names,
 * labels, and duplicates across files. Returns every finding; an empty list means valid.
 */
/**
 * The schema verdict of each object already validated, by identity: the build validates every rendered
 * object and then runs the policy rules, whose `schema` rule asks the same of the same objects.
 * Objects are not changed once rendered or loaded.
 */
const SCHEMA_VERDICTS = new WeakMap<object, { check: string; path: string; message: string }[]>();

export function validateObjects(objs: readonly LocatedObject[]): Issue[] {
  const issues: Issue[] = [];
  const seen = new Map<string, LocatedObject>();
  for (const located of objs) {
    const { file } = located;
    const obj = located.object as unknown;
    if (!isPlainObject(obj)) {
      issues.push({ file, subject: "<not an object>", path: "", message: "a rendered document must be a mapping", check: "structure" });
      continue;
    }
    const o = obj as K8sObject;
    const md0: Record<string, unknown> = isPlainObject(o.metadata) ? o.metadata : {};
    const subject = objectRef({
      kind: typeof o.kind === "string" ? o.kind : "<no kind>",
      metadata: {
        name: typeof md0.name === "string" && md0.name !== "" ? md0.name : "<unnamed>",
        ...(typeof md0.namespace === "string" ? { namespace: md0.namespace } : {}),
      },
    });
    const push = (check: string, path: string, message: string): void => {
      issues.push({ file, subject, path, message, check });
    };
    if (typeof o.apiVersion !== "string" || o.apiVersion === "" || typeof o.kind !== "string" || o.kind === "") {
      push("structure", "", "apiVersion and kind are required");
      continue;
    }
    const group = groupOf(o.apiVersion);
    const entry = lookupSchema(o.apiVersion, o.kind);
    if (!entry) {
      push("schema", "", `no schema known for ${o.apiVersion} ${o.kind}`);
    } else {
      let found = SCHEMA_VERDICTS.get(o);
      if (!found) {
        found = [];
        const copy = plainCopy(o) as object;
        const { view, access } = tracked(copy);
        for (const e of foldAlternatives(entry.validate(view))) found.push(describeError(e));
        const unknown: string[] = [];
        unknownFields(copy, access, [], unknown);
        for (const path of unknown) found.push({ check: "unknown-field", path, message: "unknown field (not in the schema)" });
        SCHEMA_VERDICTS.set(o, found);
      }
      for (const d of found) push(d.check, d.path, d.message);
    }
    for (const p of structuralProblems(o, group, entry?.clusterScoped)) push("structure", p.path, p.message);

    if (typeof md0.name === "string" && md0.name !== "") {
      const key = [group, o.kind, typeof md0.namespace === "string" ? md0.namespace : "", md0.name].join("\u0000");
      const first = seen.get(key);
      if (first) {
        push("duplicate", "", `defined twice: in ${first.file} and in ${file}`);
      } else {
        seen.set(key, located);
      }
    }
  }
  return issues;
}
