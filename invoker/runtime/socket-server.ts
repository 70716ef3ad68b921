// Listening on a unix socket in a container's channel directory (mounted read-only into the container), so
// the container's user may connect: the invoker's channel (runtime-listener.ts) and its bindings server.
import { chmod } from 'node:fs/promises';
import type net from 'node:net';

/** Starts `server` listening on `socketPath` and opens the socket to every user (the directory guards it). */
export async function listenOnSocket(server: net.Server, socketPath: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o666);
}
