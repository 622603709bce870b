import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MetricsError } from './errors';
import { formatMetrics, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE } from './exposition';
import type { MetricsSource } from './metrics-registry';

/** Options of {@link serveMetrics}. */
export interface MetricsServerConfig {
  /** TCP port; 0 picks a free one. @default 3690 */
  port?: number;
  /** Interface to bind. @default '127.0.0.1' (loopback only) */
  host?: string;
  /** Path that serves the metrics. @default '/metrics' */
  path?: string;
  /** Logger for failed scrapes (the 500 responses). @default nothing is logged */
  logger?: { error(message: string, context?: Record<string, unknown>): void };
}

/** A running `/metrics` endpoint. */
export interface MetricsServer {
  /** Scrape URL, for example `http://127.0.0.1:3690/metrics`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void>;
}

/** Default port of the metrics endpoint. */
export const DEFAULT_METRICS_PORT = 3690;

/**
 * Serves `GET /metrics` over `node:http`: the Prometheus text format, or
 * OpenMetrics when the `Accept` header prefers `application/openmetrics-text`.
 * Other paths get 404 and other methods 405.
 *
 * @example
 * import { createMetricsRegistry, serveMetrics } from '@agentnode/metrics';
 * const metrics = createMetricsRegistry();
 * const server = await serveMetrics(metrics, { port: 0 });
 * console.log(`scrape ${server.url}`);
 * await server.close();
 */
export async function serveMetrics(
  source: MetricsSource,
  config: MetricsServerConfig = {},
): Promise<MetricsServer> {
  const port = config.port ?? DEFAULT_METRICS_PORT;
  const host = config.host ?? '127.0.0.1';
  const path = config.path ?? '/metrics';
  validateServerConfig(source, config, port, host, path);

  const server = createServer((request, response) => {
    handleRequest(source, path, request, response, config.logger).catch((error: unknown) => {
      // handleRequest sends the 500 itself, so this only guards a failed write.
      response.destroy(error instanceof Error ? error : undefined);
    });
  });

  await new Promise<void>((resolve, reject) => {
    const fail = (error: Error) => {
      reject(
        new MetricsError(
          'LISTEN_FAILED',
          `The metrics server could not listen on ${host}:${port}: ${error.message}. Pick another port (0 picks a free one) or host.`,
          { cause: error },
        ),
      );
    };
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });

  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${urlHost}:${address.port}${path}`,
    host: address.address,
    port: address.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function handleRequest(
  source: MetricsSource,
  path: string,
  request: IncomingMessage,
  response: ServerResponse,
  logger: MetricsServerConfig['logger'],
): Promise<void> {
  const requestPath = (request.url ?? '/').split('?', 1)[0];
  if (requestPath !== path) {
    sendText(response, 404, `Not found: only ${path} is served here.\n`);
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    sendText(response, 405, `Method ${request.method} is not allowed on ${path}; use GET.\n`);
    return;
  }

  const openMetrics = prefersOpenMetrics(request.headers.accept);
  let body: string;
  try {
    body = formatMetrics(await source.collect(), openMetrics ? 'openmetrics' : 'prometheus');
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger?.error('Metrics scrape failed', { path, error: message });
    sendText(response, 500, `Failed to collect metrics: ${message}\n`);
    return;
  }

  response.statusCode = 200;
  response.setHeader(
    'Content-Type',
    openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
  );
  response.setHeader('Content-Length', Buffer.byteLength(body));
  response.end(request.method === 'HEAD' ? undefined : body);
}

/**
 * Reads the `Accept` header (RFC 9110 section 12.5.1): media types are
 * case-insensitive and `q=0` excludes a type. OpenMetrics wins only when its
 * weight is positive and not below the weight of plain text.
 */
function prefersOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined) {
    return false;
  }

  let openMetricsWeight = 0;
  let textWeight = 0;
  for (const part of accept.split(',')) {
    const [mediaType = '', ...parameters] = part
      .split(';')
      .map((item) => item.trim().toLowerCase());
    const qualityParameter = parameters.find((parameter) => parameter.startsWith('q='));
    const quality = qualityParameter === undefined ? 1 : Number(qualityParameter.slice(2));
    if (!Number.isFinite(quality)) {
      continue;
    }
    if (mediaType === 'application/openmetrics-text') {
      openMetricsWeight = Math.max(openMetricsWeight, quality);
    } else if (mediaType === 'text/plain' || mediaType === 'text/*' || mediaType === '*/*') {
      textWeight = Math.max(textWeight, quality);
    }
  }

  return openMetricsWeight > 0 && openMetricsWeight >= textWeight;
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.end(text);
}

const SERVER_CONFIG_KEYS = ['port', 'host', 'path', 'logger'];

function validateServerConfig(
  source: MetricsSource,
  config: MetricsServerConfig,
  port: number,
  host: string,
  path: string,
): void {
  for (const key of Object.keys(config ?? {})) {
    if (!SERVER_CONFIG_KEYS.includes(key)) {
      throw new MetricsError(
        'INVALID_CONFIG',
        `Unknown serveMetrics() option "${key}"; known options are ${SERVER_CONFIG_KEYS.join(', ')}.`,
      );
    }
  }
  if (typeof source?.collect !== 'function') {
    throw new MetricsError(
      'INVALID_CONFIG',
      'serveMetrics() needs a registry (an object with collect()).',
    );
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new MetricsError(
      'INVALID_CONFIG',
      `Option "port" must be an integer from 0 to 65535, got ${String(port)}.`,
    );
  }
  if (typeof host !== 'string' || host === '') {
    throw new MetricsError(
      'INVALID_CONFIG',
      `Option "host" must be a non-empty string, got ${JSON.stringify(host)}.`,
    );
  }
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new MetricsError(
      'INVALID_CONFIG',
      `Option "path" must start with "/", got ${JSON.stringify(path)}.`,
    );
  }
}
