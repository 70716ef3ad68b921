// Workers' HTMLRewriter: `new HTMLRewriter().on(selector, handlers).onDocument(handlers).transform(response)`,
// streaming the response's HTML through lol-html — Cloudflare's own parser, as the WebAssembly build
// html-rewriter-wasm (what Miniflare used) — with element, text, comment and document handlers, async ones
// too. The WebAssembly module (~1 MB) is loaded at the first transform(), not when the runtime starts; the
// runtime image carries it beside the runtime (HTML_REWRITER_DIR), the repo's node_modules in development.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the image puts html-rewriter-wasm's dist/ files, beside the runtime's own file. Shared with build-image.ts. */
export const HTML_REWRITER_DIR = 'html-rewriter';

interface RawRewriter {
  on(selector: string, handlers: object): void;
  onDocument(handlers: object): void;
  write(chunk: Uint8Array): Promise<void>;
  end(): Promise<void>;
  free(): void;
}

type RawModule = { HTMLRewriter: new (sink: (chunk: Uint8Array) => void, options?: object) => RawRewriter };

let raw: RawModule | undefined;

function loadRaw(): RawModule {
  if (raw) return raw;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, HTML_REWRITER_DIR, 'html_rewriter.js');
  const require = createRequire(import.meta.url);
  // The package's name is computed so the runtime's bundle leaves it out (the image carries it apart).
  const packageName = ['html-rewriter', 'wasm'].join('-');
  raw = (existsSync(beside) ? require(beside) : require(packageName)) as RawModule;
  return raw;
}

type Handlers = object;

export class HTMLRewriter {
  readonly #elements: Array<[string, Handlers]> = [];
  readonly #documents: Handlers[] = [];

  on(selector: string, handlers: Handlers): this {
    this.#elements.push([selector, handlers]);
    return this;
  }

  onDocument(handlers: Handlers): this {
    this.#documents.push(handlers);
    return this;
  }

  transform(response: Response): Response {
    const body = response.body;
    // No body: nothing to rewrite (the handlers' end would never run), the response as it is.
    if (body === null) return new Response(null, response);
    const { HTMLRewriter: Raw } = loadRaw();
    const reader = body.getReader();
    let rewriter: RawRewriter | undefined;
    const readable = new ReadableStream<Uint8Array>({
      start: (controller) => {
        rewriter = new Raw(
          (chunk) => {
            if (chunk.length !== 0) controller.enqueue(chunk.slice());
          },
          { enableEsiTags: false },
        );
        for (const [selector, handlers] of this.#elements) rewriter.on(selector, handlers);
        for (const handlers of this.#documents) rewriter.onDocument(handlers);
      },
      pull: async (controller) => {
        const next = await reader.read();
        try {
          if (next.done) {
            await rewriter!.end();
            rewriter!.free();
            controller.close();
          } else {
            await rewriter!.write(next.value instanceof Uint8Array ? next.value : new Uint8Array(next.value as ArrayBuffer));
          }
        } catch (err) {
          rewriter!.free();
          throw err;
        }
      },
      cancel: async (reason) => {
        rewriter?.free();
        await reader.cancel(reason);
      },
    });
    const transformed = new Response(readable, { status: response.status, statusText: response.statusText, headers: response.headers });
    // The rewritten body's length is not the original's.
    transformed.headers.delete('content-length');
    return transformed;
  }
}
