// A deploy's code is checked before it is accepted: the bundle's exports must hold a handler the runtime
// can call, so a module without one is refused now (400 naming what it exports) instead of failing at its
// first call. Static: the exports are read with es-module-lexer, the code never runs in the gateway.
import { init, parse } from 'es-module-lexer';

const ACCEPTED =
  'export default a function (request) => Response, a Workers module ({ fetch, scheduled, queue }) or a Lambda handler, or export const handler = async (event, context) => …; or name the export with --handler';

/** Why this code cannot be deployed with this handler setting, or undefined when it can. */
export async function handlerProblem(code: string, handler: string): Promise<string | undefined> {
  await init;
  let names: string[];
  try {
    names = parse(code)[1].map((e) => e.n);
  } catch (err) {
    return `the code is not an ES module (${(err as Error).message}); \`faas deploy\` bundles a function into one`;
  }
  const found = names.length ? names.join(', ') : 'nothing';
  if (handler) {
    // A CommonJS module bundled as ESM has only a default export; its named handler is checked when it loads.
    if (names.includes(handler) || (names.length === 1 && names[0] === 'default')) return undefined;
    return `the code has no export "${handler}" (--handler); it exports ${found}`;
  }
  if (names.includes('default') || names.includes('handler')) return undefined;
  return `the code exports no handler (it exports ${found}); ${ACCEPTED}`;
}
