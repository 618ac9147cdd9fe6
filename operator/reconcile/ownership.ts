/**
 * Whose an object is, and what a reconcile reports when it cannot do its work. Pure.
 *
 * The operator touches only objects its topology controls (a controller owner reference with the
 * topology's uid: a topology deleted and made again under the same name is another one). A name it
 * would render that somebody else holds (a Service made by hand, another controller's object) is a
 * NameConflict: reported in the topology's status and as an Event, never adopted, changed or
 * deleted. A call the API server refuses (422 invalid, 403 forbidden, 409, an admission webhook's
 * denial) is reported the same way, with the API server's message.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { ApiError, statusCode, statusMessage } from '../kube/api-errors.js';
import type { Failure } from '../render/failures.js';
import type { Owner } from '../render/owner.js';

/** Whether `meta` names this topology as its controller. */
export function isControlledBy(meta: V1ObjectMeta | undefined, owner: Owner): boolean {
  return (meta?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === owner.uid);
}

/** Who holds a name: nobody, this topology, or somebody else. */
export type Holder = { kind: 'nobody' } | { kind: 'us' } | { kind: 'other'; meta: V1ObjectMeta };

export function holderOf(meta: V1ObjectMeta | undefined, owner: Owner): Holder {
  if (meta === undefined) return { kind: 'nobody' };
  return isControlledBy(meta, owner) ? { kind: 'us' } : { kind: 'other', meta };
}

/** An object by kind and name, as messages name it: `Service ops/imdb--cloud`. */
export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

/** A condition's message may hold 32 KiB; a reconcile's report stays far below that. */
const MAX_MESSAGE = 8192;
const bounded = (text: string): string => (text.length <= MAX_MESSAGE ? text : `${text.slice(0, MAX_MESSAGE - 1)}…`);

const refText = (r: ObjectRef): string => `${r.kind} ${r.namespace}/${r.name}`;

function controllerText(meta: V1ObjectMeta): string {
  const c = (meta.ownerReferences ?? []).find((r) => r.controller === true);
  if (c === undefined) return 'it has no controller (made by hand or by a tool)';
  return `its controller is ${c.kind} ${c.name} (uid ${c.uid})`;
}

/** The NameConflict for names somebody else holds. */
export function nameConflict(conflicts: ReadonlyArray<{ ref: ObjectRef; meta: V1ObjectMeta }>, owner: Owner): Failure {
  const each = conflicts.map((c) => `${refText(c.ref)} exists and is not this topology's: ${controllerText(c.meta)}`);
  return {
    reason: 'NameConflict',
    message: bounded(`${each.join('; ')}. The operator does not touch objects it does not control: delete or rename ${conflicts.length === 1 ? 'it' : 'them'} to let RnnTopology ${owner.namespace}/${owner.name} create its own`),
  };
}

export type Step = 'lookup' | 'apply' | 'create' | 'delete';

const REASON: Record<Step, string> = { lookup: 'LookupFailed', apply: 'ApplyFailed', create: 'ApplyFailed', delete: 'PruneFailed' };

/** A call the API server refused (or that got no answer), with the API server's own message. */
export interface StepFailure {
  step: Step;
  ref: ObjectRef;
  error: unknown;
}

function errorText(err: unknown): string {
  const code = statusCode(err);
  const reason = err instanceof ApiError && err.reason !== '' ? ` ${err.reason}` : '';
  return `${code === undefined || code === 0 ? '' : `HTTP ${code}${reason}: `}${statusMessage(err)}`;
}

/** The failures of one reconcile, the first one's step giving the reason. */
export function stepFailure(failures: readonly StepFailure[]): Failure {
  const [first] = failures;
  if (first === undefined) throw new Error('stepFailure needs at least one failure');
  return {
    reason: REASON[first.step],
    message: bounded(failures.map((f) => `${f.step} ${refText(f.ref)}: ${errorText(f.error)}`).join('; ')),
  };
}

/** A reconcile that could not do its work; thrown after its status says why, so the key is retried with backoff. */
export class ReconcileFailure extends Error {
  constructor(readonly failure: Failure) {
    super(`${failure.reason}: ${failure.message}`);
    this.name = 'ReconcileFailure';
  }
}
