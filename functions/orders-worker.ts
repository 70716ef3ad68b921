// Queue consumer and event subscriber (web standard). The platform names the trigger in x-faas-* headers.
//   faas deploy functions/orders-worker.ts --queue orders --on order.created --batch-size 10
//   faas queue send orders '{"id":7}' --content-type application/json
//   faas publish order.created '{"id":8}' --type order.created --source /shop
export default async (req: Request): Promise<unknown> => {
  const trigger = req.headers.get('x-faas-trigger');
  const attempt = Number(req.headers.get('x-faas-attempt') ?? 1);
  if (trigger === 'queue') {
    // With --batch-size > 1, several waiting messages come as one JSON body: { messages: [...] }.
    const batch = req.headers.get('x-faas-batch-size');
    const orders = batch ? ((await req.json()) as { messages: Array<{ body: string }> }).messages.map((m) => JSON.parse(m.body)) : [await req.json()];
    console.log(`queue ${req.headers.get('x-faas-queue')}: ${orders.length} order(s), attempt ${attempt}`);
    return { processed: orders.length };
  }
  if (trigger === 'event') {
    // CloudEvents binary mode: attributes in ce-* headers, the data as the body.
    console.log(`event ${req.headers.get('ce-type')} from ${req.headers.get('ce-source')} on topic ${req.headers.get('x-faas-topic')}`);
    return { event: req.headers.get('ce-id'), data: await req.json() };
  }
  return new Response('send me queue messages or events\n', { status: 400 });
};
