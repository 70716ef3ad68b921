// Web-standard function.  faas deploy functions/hello.ts  →  curl 'http://127.0.0.1:8080/fn/hello?name=you'
export default async (req: Request): Promise<Response> => {
  const name = new URL(req.url).searchParams.get('name') ?? 'world';
  return new Response(`Hello, ${name}!\n`, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
};
