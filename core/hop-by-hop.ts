// The headers that describe one HTTP hop (RFC 9110 §7.6.1): never passed on by a proxy, in either direction.
export const HOP_BY_HOP_HEADERS: readonly string[] = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer'];
