import { describe, expect, it } from 'vitest';
import { parseCloudEvent } from '../../../gateway/cloudevents.js';

const structured = (event: unknown) => parseCloudEvent({ 'content-type': 'application/cloudevents+json; charset=utf-8' }, Buffer.from(JSON.stringify(event)));
const base = { specversion: '1.0', id: 'e1', source: '/shop', type: 'order.created' };

describe('parseCloudEvent', () => {
  it('reads structured mode: JSON data, data_base64, string data of another type, extensions', () => {
    const json = structured({ ...base, time: '2026-11-24T10:00:00Z', data: { n: 1 }, tenant: 'acme', priority: 5, urgent: true });
    expect(json.attributes).toEqual({
      ...base,
      time: '2026-11-24T10:00:00Z',
      datacontenttype: 'application/json',
      tenant: 'acme',
      priority: '5',
      urgent: 'true',
    });
    expect(json.data.toString()).toBe('{"n":1}');
    expect(structured({ ...base, data_base64: Buffer.from([1, 2]).toString('base64') }).data).toEqual(Buffer.from([1, 2]));
    const text = structured({ ...base, datacontenttype: 'text/plain', data: 'hello' });
    expect(text.data.toString()).toBe('hello');
    expect(structured(base).data.length).toBe(0);
  });

  it('reads binary mode from ce-* headers, the content type as datacontenttype, percent-decoded values', () => {
    const event = parseCloudEvent(
      { 'content-type': 'application/xml', 'ce-specversion': '1.0', 'ce-id': 'e2', 'ce-source': '/a%20b', 'ce-type': 't', 'x-other': 'no' },
      Buffer.from('<x/>'),
    );
    expect(event.attributes).toEqual({ specversion: '1.0', id: 'e2', source: '/a b', type: 't', datacontenttype: 'application/xml' });
    expect(event.data.toString()).toBe('<x/>');
  });

  it('rejects what is not a valid CloudEvent 1.0, naming the problem', () => {
    const bad = (fn: () => unknown, message: RegExp) => expect(fn).toThrow(message);
    bad(() => structured({ ...base, specversion: undefined }), /specversion is missing/);
    bad(() => structured({ ...base, specversion: '0.3' }), /"0.3" is not supported/);
    bad(() => structured({ ...base, id: '' }), /"id" is missing or empty/);
    bad(() => structured({ ...base, source: undefined }), /"source"/);
    bad(() => structured({ ...base, time: '24/11/2026' }), /RFC 3339/);
    bad(() => structured({ ...base, Bad_Name: 'x' }), /lower-case letters or digits/);
    bad(() => structured({ ...base, data: 1, data_base64: 'AA==' }), /not both/);
    bad(() => structured([base]), /one JSON object/);
    bad(() => structured({ ...base, nested: { a: 1 } }), /string, number or boolean/);
    bad(() => parseCloudEvent({ 'content-type': 'application/cloudevents+json' }, Buffer.from('{')), /not JSON/);
    bad(() => parseCloudEvent({ 'content-type': 'application/cloudevents-batch+json' }, Buffer.from('[]')), /batched mode/);
    bad(() => parseCloudEvent({ 'content-type': 'application/json' }, Buffer.from('{}')), /ce-specversion/);
    let caught: unknown;
    try {
      structured({ ...base, type: '' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: 'BAD_CLOUDEVENT', status: 400 });
  });
});
