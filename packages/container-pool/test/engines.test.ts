import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { createMetricsRegistry } from '@agentnode/metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContainerSpec } from '../src/index';
import { dockerAvailable, testImages, testPools } from './images';

const hasDocker = await dockerAvailable();
const pools = testPools('engines');
const DOCKER_SOCKET = '/var/run/docker.sock';

/** Starts a Unix socket that forwards to the local engine until `stop()` cuts every connection. */
async function startProxy(path: string) {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(DOCKER_SOCKET);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** Reads a file of the TLS material made by fixtures/tls/make-certificates.sh. */
function tlsFixture(name: string): string {
  return readFileSync(new URL(`./fixtures/tls/${name}`, import.meta.url), 'utf8');
}

/**
 * Starts a TLS server on 127.0.0.1 that requires a client certificate signed by the test
 * CA and forwards to the local engine, as a remote engine with `--tlsverify` would serve.
 */
async function startTlsProxy() {
  const sockets = new Set<Socket>();
  const server = createTlsServer(
    {
      key: tlsFixture('server-key.pem'),
      cert: tlsFixture('server.pem'),
      ca: tlsFixture('ca.pem'),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (client) => {
      const upstream = connect(DOCKER_SOCKET);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => {});
      }
      client.pipe(upstream);
      upstream.pipe(client);
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    // Keep-alive connections of the Docker client would hold close() open.
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

describe.skipIf(!hasDocker)('ContainerPool with several engines', () => {
  let dir: string;
  let spec: ContainerSpec;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentnode-engines-'));
    spec = { image: (await testImages()).sh, runner: 'sh' };
  });
  afterAll(async () => {
    await pools.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it('places containers on the least-loaded engine', async () => {
    const pool = pools.create({
      engines: [
        { name: 'a', connection: { socketPath: DOCKER_SOCKET } },
        { name: 'b', connection: { socketPath: DOCKER_SOCKET } },
      ],
    });
    await pool.warm({ ...spec, min: 4, max: 4 });

    expect(pool.stats().engines).toEqual([
      { name: 'a', up: true, containers: 2 },
      { name: 'b', up: true, containers: 2 },
    ]);
  });

  it('runs calls on an engine reached over TLS', async () => {
    const proxy = await startTlsProxy();
    try {
      const tls = { host: '127.0.0.1', port: proxy.port, protocol: 'https' as const };
      const pool = pools.create({
        engines: [
          {
            name: 'remote',
            connection: {
              ...tls,
              ca: tlsFixture('ca.pem'),
              cert: tlsFixture('client.pem'),
              key: tlsFixture('client-key.pem'),
            },
          },
        ],
      });
      const noClientCertificate = pools.create({
        engines: [{ name: 'anonymous', connection: { ...tls, ca: tlsFixture('ca.pem') } }],
      });

      const result = await pool.run(spec, { code: 'echo over tls', timeoutMs: 20_000 });
      const error = await noClientCertificate
        .run(spec, { code: 'echo never', timeoutMs: 5_000 })
        .catch((caught: unknown) => caught);

      expect(result.output).toBe('over tls\n');
      expect(result.engine).toBe('remote');
      expect(error).toMatchObject({ code: 'ENGINE_UNAVAILABLE' });
      expect((error as Error).message).toMatch(/certificate required/);
      expect((error as Error).message).not.toContain('\n');
      expect((error as Error).cause).toMatchObject({ code: expect.stringMatching(/^ERR_SSL_/) });
      await pool.close();
      await noClientCertificate.close();
    } finally {
      await proxy.stop();
    }
  });

  it('takes an unresponsive engine out of rotation', async () => {
    const metrics = createMetricsRegistry({ collectSystem: false });
    const pool = pools.create({
      metrics,
      engines: [
        { name: 'gone', connection: { socketPath: join(dir, 'missing.sock') } },
        { name: 'local' },
      ],
    });
    const down: string[] = [];
    pool.on('engineDown', (event) => down.push(event.engine));
    const result = await pool.run(spec, { code: 'echo ok' });

    expect(result).toMatchObject({ output: 'ok\n', engine: 'local' });
    expect(down).toEqual(['gone']);
    expect(pool.stats().engines[0]).toMatchObject({ name: 'gone', up: false });
    expect(await metrics.metrics()).toContain('agentnode_container_engine_up{engine="gone"} 0');
  });

  it('fails with ENGINE_UNAVAILABLE when no engine responds', async () => {
    const pool = pools.create({
      engines: [{ name: 'gone', connection: { socketPath: join(dir, 'missing.sock') } }],
    });

    await expect(pool.run(spec, { code: 'true' })).rejects.toMatchObject({
      code: 'ENGINE_UNAVAILABLE',
    });
  });

  it('moves a call to another engine when its engine stops responding', async () => {
    const proxyPath = join(dir, 'proxy.sock');
    const proxy = await startProxy(proxyPath);
    const pool = pools.create({
      engines: [{ name: 'proxy', connection: { socketPath: proxyPath } }, { name: 'direct' }],
    });
    const single: ContainerSpec = { ...spec, min: 1, max: 2 };
    await pool.warm(single);
    expect(pool.stats().engines.map((engine) => engine.containers)).toEqual([1, 0]);

    const call = pool.run(single, { code: 'sleep 0.5; echo done', timeoutMs: 30_000 });
    setTimeout(() => void proxy.stop(), 200);
    const result = await call;
    const next = await pool.run(single, { code: 'echo again' });

    expect(result).toMatchObject({ output: 'done\n', engine: 'direct' });
    expect(next.engine).toBe('direct');
    expect(pool.stats().engines[0]).toMatchObject({ name: 'proxy', up: false });
  });
});
