// Lambda-style function (API Gateway HTTP API 2.0 event).
//   faas deploy functions/lambda.ts  →  curl -X POST 'http://127.0.0.1:8080/fn/lambda/orders?id=7' -d '{"qty":2}'
interface HttpEvent {
  rawPath: string;
  queryStringParameters?: Record<string, string>;
  requestContext: { http: { method: string } };
  body?: string;
  isBase64Encoded: boolean;
}

interface Context {
  awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

export const handler = async (event: HttpEvent, context: Context) => {
  const body = event.body && !event.isBase64Encoded ? event.body : undefined;
  console.log('handling', event.requestContext.http.method, event.rawPath);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      method: event.requestContext.http.method,
      path: event.rawPath,
      query: event.queryStringParameters ?? {},
      body: body ? JSON.parse(body) : null,
      requestId: context.awsRequestId,
      remainingMs: context.getRemainingTimeInMillis(),
    }),
  };
};
