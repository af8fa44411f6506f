import net from 'node:net';

export type ProxyMode = 'pass' | 'stall' | 'reset';

/**
 * A TCP proxy for fault tests (this kernel has no tc netem; toxiproxy is not installable):
 * 'pass' forwards bytes, 'stall' keeps connections open but forwards nothing (a hung server or a
 * black-holed network), 'reset' destroys every connection and refuses new ones.
 */
export class TcpFaultProxy {
  private mode: ProxyMode = 'pass';
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpFaultProxy> {
    // Connections are handled in later turns of the event loop than the one that sets `proxy`.
    const server = net.createServer((client) => proxy.accept(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new TcpFaultProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  setMode(mode: ProxyMode): void {
    this.mode = mode;
    for (const pair of this.pairs) {
      if (mode === 'reset') for (const socket of pair) socket.destroy();
      else if (mode === 'stall') for (const socket of pair) socket.pause();
      else for (const socket of pair) socket.resume();
    }
  }

  private accept(client: net.Socket, target: { host: string; port: number }): void {
    if (this.mode === 'reset') return void client.destroy();
    const upstream = net.connect(target.port, target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    if (this.mode === 'stall') for (const socket of pair) socket.pause();
    const drop = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  }

  async close(): Promise<void> {
    this.setMode('reset');
    await new Promise((resolve) => this.server.close(resolve));
  }
}
