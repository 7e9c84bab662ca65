// A TCP proxy in front of the test PostgreSQL that a test can cut: the network
// between one worker and its database, made breakable without touching the
// server everyone else uses. `cut()` closes every connection through it and
// refuses new ones (it stops listening) (the database "goes away" for this worker only: its
// backends end, so its locks go, as on a restart); `mend()` lets
// connections through again. `urlFor(db)` is a database URL through it.

import { connect as netConnect, createServer, type Server, type Socket } from "node:net";
import { ADMIN_URL } from "./db.ts";

export class CuttableProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private open = true;
  port = 0;

  constructor(private readonly target = new URL(ADMIN_URL)) {}

  async start(): Promise<this> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  urlFor(database: string): string {
    const url = new URL(this.target);
    url.hostname = "127.0.0.1";
    url.port = String(this.port);
    url.pathname = `/${database}`;
    return url.toString();
  }

  /** Closes every connection through the proxy and refuses new ones (ECONNREFUSED) until mend(). */
  async cut(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Listens again, on the same port. */
  async mend(): Promise<void> {
    if (this.open) return;
    this.open = true;
    await new Promise<void>((resolve) => this.server!.listen(this.port, "127.0.0.1", resolve));
  }

  async stop(): Promise<void> {
    await this.cut();
    this.server = null;
  }

  private accept(client: Socket): void {
    const upstream = netConnect(Number(this.target.port || 5432), this.target.hostname);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
