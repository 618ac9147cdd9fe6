/**
 * The model URI of an RnnTopology (`spec.model.uri`) and of `crime model fetch`: which schemes exist
 * and what each must look like. The rules are written once here, as regular expressions, and the
 * CRD (crds/crime.dev_rnntopologies.yaml) carries the same expressions as CEL rules with the same
 * messages; a test compares the two.
 *
 *   http://host/path, https://host/path  downloaded (by `crime model fetch` in the operator's init
 *                                        container, directly by `crime up`)
 *   pvc://<claim>/<path>                 a file on a PersistentVolumeClaim the operator mounts
 *   file:///abs/path, or a plain path    a local file: `crime up` only (the operator refuses it)
 */
import { fileURLToPath } from 'node:url';

export type ModelUri =
  | { kind: 'http'; url: string }
  | { kind: 'pvc'; claim: string; path: string }
  | { kind: 'local'; path: string };

export const MODEL_URI_MAX_LENGTH = 2048;

/** Every rule: a URI matching `when` must match `must` (and must not match `mustNot`). */
interface UriRule {
  when: RegExp;
  must?: RegExp;
  mustNot?: RegExp;
  message: string;
}

// The same patterns appear in the CRD's CEL rules (RE2 syntax; these use nothing JS-specific).
export const URI_PATTERNS = {
  noSpace: '^\\S+$',
  anyScheme: '^[A-Za-z][-A-Za-z0-9+.]*://',
  knownScheme: '^(https?|pvc|file)://',
  http: '^https?://',
  httpHost: '^https?://[^/?#]+([/?#].*)?$',
  pvcForm: '^pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[^/]',
  dotDot: '/\\.\\.(/|$)',
  fileForm: '^file:///[^/]',
} as const;

export const URI_MESSAGES = {
  noSpace: 'must not contain whitespace',
  knownScheme: 'unsupported scheme: use http://, https://, pvc://<claim>/<path>, file:///<path> or a local path',
  httpHost: 'an http(s) URI needs a host: http(s)://<host>/<path>',
  pvcForm: 'must be pvc://<claim>/<path>: a claim name in DNS-1123 form (lowercase letters, digits, "-" and "."), then a relative path',
  pvcDotDot: 'a pvc:// path must not contain ".." segments',
  fileForm: 'a file:// URI needs an absolute path: file:///<path>',
} as const;

const re = (source: string): RegExp => new RegExp(source);

const RULES: readonly UriRule[] = [
  { when: /^/, must: re(URI_PATTERNS.noSpace), message: URI_MESSAGES.noSpace },
  { when: re(URI_PATTERNS.anyScheme), must: re(URI_PATTERNS.knownScheme), message: URI_MESSAGES.knownScheme },
  { when: re(URI_PATTERNS.http), must: re(URI_PATTERNS.httpHost), message: URI_MESSAGES.httpHost },
  { when: /^pvc:\/\//, must: re(URI_PATTERNS.pvcForm), message: URI_MESSAGES.pvcForm },
  { when: /^pvc:\/\//, mustNot: re(URI_PATTERNS.dotDot), message: URI_MESSAGES.pvcDotDot },
  { when: /^file:\/\//, must: re(URI_PATTERNS.fileForm), message: URI_MESSAGES.fileForm },
];

/** The first rule `uri` breaks, as a message, or undefined if it is a valid model URI. */
export function modelUriProblem(uri: string): string | undefined {
  if (uri.length === 0) return 'must be a non-empty string';
  if (uri.length > MODEL_URI_MAX_LENGTH) return `must be at most ${MODEL_URI_MAX_LENGTH} characters`;
  for (const rule of RULES) {
    if (!rule.when.test(uri)) continue;
    if (rule.must !== undefined && !rule.must.test(uri)) return rule.message;
    if (rule.mustNot !== undefined && rule.mustNot.test(uri)) return rule.message;
  }
  return undefined;
}

/** Classifies a URI that `modelUriProblem` accepts; throws an Error with its message otherwise. */
export function parseModelUri(uri: string): ModelUri {
  const problem = modelUriProblem(uri);
  if (problem !== undefined) throw new Error(`model URI "${uri}": ${problem}`);
  if (/^https?:\/\//.test(uri)) return { kind: 'http', url: uri };
  if (uri.startsWith('pvc://')) {
    const rest = uri.slice('pvc://'.length);
    const slash = rest.indexOf('/');
    return { kind: 'pvc', claim: rest.slice(0, slash), path: rest.slice(slash + 1) };
  }
  if (uri.startsWith('file://')) {
    try {
      return { kind: 'local', path: fileURLToPath(uri) };
    } catch (err) {
      throw new Error(`model URI "${uri}": ${(err as Error).message}`, { cause: err });
    }
  }
  return { kind: 'local', path: uri };
}
