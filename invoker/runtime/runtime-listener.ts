// The invoker's end of the channel to one container: a unix socket it listens on, in a directory only it can
// write (mounted read-only into the container); the runtime connects out and the invoker takes the accepted
// connections as its HTTP client's sockets. No path the function can touch is ever opened by the platform.
import { mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { listenOnSocket } from './socket-server.js';
import { INVOKER_SOCKET_NAME, SPARE_CONNECTIONS } from '../../runtime-images/node/protocol.js';

/** Where an HTTP client gets its next connection to the runtime. */
export interface SocketSource {
  /** Resolves with a connection the runtime opened, or rejects with code ERUNTIMEABSENT after timeoutMs. */
  take(timeoutMs: number): Promise<net.Socket>;
}

interface Waiter {
  resolve(socket: net.Socket): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** A runtime whose connections all closed is dead or being removed: no need to wait long for it. */
const GONE_GRACE_MS = 250;

export class RuntimeListener implements SocketSource {
  private readonly idle: net.Socket[] = [];
  private readonly waiters: Waiter[] = [];
  /** Accepted connections not yet closed, idle or in use. */
  private live = 0;
  private everConnected = false;
  private closed = false;

  private constructor(
    private readonly server: net.Server,
    /** Host directory holding the socket, mounted read-only into the container. */
    readonly dir: string,
  ) {
    server.on('connection', (socket) => this.accept(socket));
    // An accept failure (EMFILE, say) must not take the invoker down; the runtime dials again.
    server.on('error', () => {});
  }

  /**
   * Creates `dir` (mode 0755, owned by this process: root) with a listening socket in it, mode 0666 so the
   * container's user (CONTAINER.uid) may connect. `concurrency` bounds the connections the runtime may hold open.
   */
  static async open(dir: string, concurrency = 1): Promise<RuntimeListener> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const socketPath = path.join(dir, INVOKER_SOCKET_NAME);
    const server = net.createServer();
    const listener = new RuntimeListener(server, dir);
    listener.setConcurrency(concurrency);
    await listenOnSocket(server, socketPath);
    return listener;
  }

  /** The runtime may hold the invoker's concurrent requests plus its spares (and one closing): more are refused. */
  setConcurrency(concurrency: number): void {
    this.server.maxConnections = concurrency + SPARE_CONNECTIONS + 2;
  }

  take(timeoutMs: number): Promise<net.Socket> {
    for (let socket = this.idle.pop(); socket; socket = this.idle.pop()) {
      if (!socket.destroyed) return Promise.resolve(socket);
    }
    if (this.closed) return Promise.reject(removed());
    const waitMs = this.everConnected && this.live === 0 ? Math.min(timeoutMs, GONE_GRACE_MS) : timeoutMs;
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(absent(`the runtime opened no connection within ${waitMs} ms`));
        }, waitMs),
      };
      this.waiters.push(waiter);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(removed());
    }
    for (const socket of this.idle.splice(0)) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.dir, { recursive: true, force: true });
  }

  private accept(socket: net.Socket): void {
    if (this.closed) return void socket.destroy();
    this.live++;
    this.everConnected = true;
    // Errors end in 'close'; the HTTP client that takes the socket listens for them itself.
    socket.on('error', () => {});
    socket.once('close', () => {
      this.live--;
      const i = this.idle.indexOf(socket);
      if (i !== -1) this.idle.splice(i, 1);
    });
    const waiter = this.waiters.shift();
    if (!waiter) {
      // The runtime keeps SPARE_CONNECTIONS unused; more idle ones are a function dialling on its own to
      // make the invoker hold descriptors: refused.
      if (this.idle.length >= SPARE_CONNECTIONS + 1) return void socket.destroy();
      return void this.idle.push(socket);
    }
    clearTimeout(waiter.timer);
    waiter.resolve(socket);
  }
}

/** The listener was closed: the container is being removed; nothing will connect any more. */
function removed(): Error {
  return Object.assign(new Error('the container is being removed'), { code: 'ERUNTIMEREMOVED' });
}

function absent(message: string): Error {
  return Object.assign(new Error(message), { code: 'ERUNTIMEABSENT' });
}
