// V8 flags the runtime's node starts with, by Node major version (each V8 generation tiers up differently).
//
// Node 20 (V8 11.3): a function is optimised once it has run through --interrupt-budget bytes of bytecode
// (132 KB by default). The runtime's invocation path (http, the fetch classes, the handler's adapter) then
// takes ~4,000 calls to reach its steady speed, and a function container is young for most of its life.
// At 16 KB (measured on a no-op function, 5 fresh containers each, the same run): per-call time reaches
// steady state after ~1,000 calls instead of ~4,000 (calls 1,000–2,000: 0.38 → 0.16 ms p50), the first call
// is unchanged (3.0 / 2.8 ms), calls 1–250 are ~0.08 ms slower (the compiler starts earlier), and the
// container spends 16 % less CPU over its first 4,000 calls (1,936 → 1,625 ms). 8 KB: the first call 1 ms slower.
//
// Node 22 and 24 (V8 12–13) tier through Maglev by invocation counts and have no --interrupt-budget (node
// refuses to start with it): none until measured.
const FLAGS: Record<string, readonly string[]> = {
  '20': ['--interrupt-budget=16000'],
};

/** The V8 flags for a node binary of this major version (`20`). */
export function runtimeV8Flags(major: string): readonly string[] {
  return FLAGS[major] ?? [];
}
