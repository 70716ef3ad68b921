// A function with an npm dependency (slugify), bundled into the deploy by esbuild.
//   faas deploy functions/slugify.ts  →  curl 'http://127.0.0.1:8080/fn/slugify?text=Héllo Wörld!'
import slugify from 'slugify';

export default (req: Request) => {
  const text = new URL(req.url).searchParams.get('text') ?? '';
  return { slug: slugify(text, { lower: true, strict: true }) };
};
