// Which function a trigger URL names: `/fn/<name>[/path]` in the default tenant, `/fn/<tenant>/<name>[/path]`
// in any other. A default-tenant function may not take a tenant's name, so the two never collide.
import { splitQualifier } from '../../core/releases.js';
import { functionId } from '../../tenancy/names.js';

export interface ResolvedPath {
  /** Function id. */
  fn: string;
  /** `name@<version or alias>`: the qualifier; absent: the default alias. */
  qualifier?: string;
  /** Path below the function's root, '/' when none. */
  path: string;
  /** Query string without '?', '' when none. */
  rawQuery: string;
}

/**
 * `root` is the route's prefix ('/fn/' or '/async/fn/'), `first` the first segment after it as the router
 * decoded it, and `known` says whether a function id exists (the registry's local cache: no I/O on the hot
 * path). The path below the function is cut from the raw URL at the raw segment's end, so a percent-encoded
 * name (`/fn/n%6Fop/x`) still gives the function `/x`.
 */
export function resolveFunctionPath(url: string, root: string, first: string, known: (id: string) => boolean): ResolvedPath {
  const q = url.indexOf('?');
  const end = q === -1 ? url.length : q;
  const slash = url.indexOf('/', root.length);
  const rawFirstEnd = slash === -1 || slash > end ? end : slash;
  let { name: fn, qualifier } = splitQualifier(first);
  let rest = url.slice(rawFirstEnd, end);
  if (rest.length > 1 && qualifier === undefined) {
    const slash = rest.indexOf('/', 1);
    const second = splitQualifier(decodeSegment(slash === -1 ? rest.slice(1) : rest.slice(1, slash)));
    const id = functionId(first, second.name);
    if (second.name && id !== second.name && known(id)) {
      fn = id;
      qualifier = second.qualifier;
      rest = slash === -1 ? '' : rest.slice(slash);
    }
  }
  return { fn, ...(qualifier === undefined ? {} : { qualifier }), path: rest || '/', rawQuery: q === -1 ? '' : url.slice(q + 1) };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
