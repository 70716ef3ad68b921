// How tenants namespace what they name: functions (`tenant.name`), queues and topics (`tenant~name`).
// The default tenant's names are kept bare, so single-tenant deployments and their data are unchanged.
import { DEFAULT_TENANT, functionId, splitFunctionId, type FunctionSpec } from '../core/function-spec.js';

export { functionId, splitFunctionId };

/** A queue or topic name as stored (queue and topic names may hold dots, never `~`). */
export function triggerId(tenant: string, name: string): string {
  return tenant === DEFAULT_TENANT ? name : `${tenant}~${name}`;
}

export function splitTriggerId(id: string): { tenant: string; name: string } {
  const at = id.indexOf('~');
  return at === -1 ? { tenant: DEFAULT_TENANT, name: id } : { tenant: id.slice(0, at), name: id.slice(at + 1) };
}

export const tenantOfFunction = (spec: Pick<FunctionSpec, 'name'>) => splitFunctionId(spec.name).tenant;

/** A spec as its tenant sees it: bare names, and which tenant it belongs to. */
export function presentSpec(spec: FunctionSpec): FunctionSpec & { tenant: string } {
  const { tenant, name } = splitFunctionId(spec.name);
  return {
    ...spec,
    name,
    tenant,
    queues: spec.queues.map((q) => splitTriggerId(q).name),
    topics: spec.topics.map((t) => splitTriggerId(t).name),
  };
}

/** Path of a function's HTTP trigger below the gateway: /fn/name, or /fn/tenant/name. */
export function functionPath(tenant: string, name: string): string {
  return tenant === DEFAULT_TENANT ? `/fn/${name}` : `/fn/${tenant}/${name}`;
}
