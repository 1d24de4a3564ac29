import { connect, createServer, type Server, type Socket } from 'node:net';

/** One client connection through the proxy and its connection to the server. */
interface Link {
  readonly client: Socket;
  readonly server: Socket;
  /** Bytes held back while the link is held, per direction. */
  readonly toServer: Buffer[];
  readonly toClient: Buffer[];
  /** The server's replies on this link are thrown away: the client waits for ever. */
  silenced: boolean;
  /** The statement to silence was parsed here: its execution, sent next, is the last the client hears of. */
  silenceNext: boolean;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a PostgreSQL server, for faults of the network between a
 * node and its database: `hold()` keeps every byte in both directions (a partition: statements
 * get no answer, nothing is lost), `release()` delivers what was held, `silenceAfter(text, n)`
 * lets the server run and commit the next `n` statements whose text contains `text`, and throws
 * away every reply on their connections from their execution on (a half-open connection).
 */
export class TcpProxy {
  private readonly links = new Set<Link>();
  private held = false;
  private silencing: { readonly text: string; left: number } | undefined;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => proxy!.accept(client, targetHost, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
    proxy = new TcpProxy(server, address.port);
    return proxy;
  }

  /** A URL of `url`'s database, through the proxy. */
  url(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  hold(): void {
    this.held = true;
  }

  silenceAfter(text: string, count: number): void {
    this.silencing = { text, left: count };
  }

  release(): void {
    this.held = false;
    for (const link of this.links) {
      for (const chunk of link.toServer.splice(0)) link.server.write(chunk);
      for (const chunk of link.toClient.splice(0)) link.client.write(chunk);
    }
  }

  async close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.server.destroy();
    }
    await new Promise((resolve) => this.server.close(resolve));
  }

  private accept(client: Socket, host: string, port: number): void {
    const server = connect(port, host);
    const link: Link = { client, server, toServer: [], toClient: [], silenced: false, silenceNext: false };
    this.links.add(link);
    const end = () => {
      this.links.delete(link);
      client.destroy();
      server.destroy();
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
    client.on('data', (chunk: Buffer) => {
      // The driver sends a statement's text (Parse, Describe) and, once answered, its
      // execution (Bind, Execute, Sync): the server runs and commits it, and the reply is lost.
      const silencing = this.silencing;
      if (link.silenceNext) link.silenced = true;
      else if (silencing && silencing.left > 0 && chunk.toString('latin1').includes(silencing.text)) {
        silencing.left--;
        link.silenceNext = true;
      }
      if (this.held) link.toServer.push(chunk);
      else server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (link.silenced) return;
      if (this.held) link.toClient.push(chunk);
      else client.write(chunk);
    });
  }
}
