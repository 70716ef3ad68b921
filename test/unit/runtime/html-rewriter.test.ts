// Workers' HTMLRewriter over lol-html's WebAssembly build: element, text and document handlers, async ones,
// streaming through a Response, as Cloudflare's docs examples use it.
import { describe, expect, it } from 'vitest';
import { HTMLRewriter } from '../../../runtime-images/node/src/html-rewriter.js';

describe('HTMLRewriter', () => {
  it("rewrites attributes as Cloudflare's https-links example does, dropping the old length", async () => {
    const page = new Response('<p><a href="http://example.com/a">a</a> <a href="/b">b</a></p>', {
      headers: { 'content-type': 'text/html', 'content-length': '60' },
    });
    const rewritten = new HTMLRewriter()
      .on('a[href]', {
        element(el: { getAttribute(n: string): string | null; setAttribute(n: string, v: string): void }) {
          const href = el.getAttribute('href')!;
          if (href.startsWith('http:')) el.setAttribute('href', href.replace('http:', 'https:'));
        },
      })
      .transform(page);
    expect(rewritten.headers.get('content-length')).toBeNull();
    expect(rewritten.headers.get('content-type')).toBe('text/html');
    expect(await rewritten.text()).toBe('<p><a href="https://example.com/a">a</a> <a href="/b">b</a></p>');
  });

  it('runs async element handlers, text handlers and document end handlers', async () => {
    const texts: string[] = [];
    const rewritten = new HTMLRewriter()
      .on('h1', {
        async element(el: { setInnerContent(c: string): void }) {
          await new Promise((r) => setTimeout(r, 1));
          el.setInnerContent('Title');
        },
      })
      .on('p', {
        text(t: { text: string }) {
          if (t.text) texts.push(t.text);
        },
      })
      .onDocument({
        end(end: { append(c: string, o: { html: boolean }): void }) {
          end.append('<!-- rewritten -->', { html: true });
        },
      })
      .transform(new Response('<h1>old</h1><p>hello</p>'));
    expect(await rewritten.text()).toBe('<h1>Title</h1><p>hello</p><!-- rewritten -->');
    expect(texts.join('')).toBe('hello');
  });

  it('passes a response without a body through', async () => {
    const rewritten = new HTMLRewriter().on('a', {}).transform(new Response(null, { status: 204 }));
    expect(rewritten.status).toBe(204);
  });
});
