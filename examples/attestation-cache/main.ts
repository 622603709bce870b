/**
 * Verifies a real AWS Nitro Enclaves attestation document through the cache,
 * serves it again from the cache, and shows two rejections.
 *
 *   node --conditions=source --import tsx examples/attestation-cache/main.ts
 *
 * The document was recorded from a debug-mode enclave in September 2024. Its
 * certificates have long expired, so the verifier and the cache both read the
 * document's own timestamp as the time. The cache needs the clock too, because
 * it checks each result's expiry against its own clock. Debug mode is allowed
 * for this demonstration only: never allow it in production.
 */
import { readFileSync } from 'node:fs';
import {
  AttestationCache,
  attestationKey,
  createNitroVerifier,
  isAttestationError,
} from '@agentnode/attestation-cache';

const document = Buffer.from(
  readFileSync(
    new URL(
      '../../packages/attestation-cache/test/fixtures/nitro-valid-2024-08.b64',
      import.meta.url,
    ),
    'utf8',
  ).trim(),
  'base64',
);
const documentTime = () => Date.parse('2024-09-09T19:49:12.400Z');

const cache = new AttestationCache({
  verifiers: [createNitroVerifier({ allowDebug: true, clock: documentTime })],
  clock: documentTime,
});

// Hashing the document once gives the key to pass on every later lookup.
const request = { tee: 'nitro', evidence: document, key: attestationKey('nitro', document) };

const result = await cache.get(request);
console.log(
  `verified enclave ${result.claims.moduleId} (debug: ${result.claims.debug}), valid until ${new Date(result.expiresAt).toISOString()}`,
);

const again = await cache.get(request);
console.log(`second get served from cache: ${again === result}`);

const stats = cache.stats();
console.log(
  `stats: lookups ${stats.lookups}, hits ${stats.hits}, misses ${stats.misses}, hit rate ${stats.hitRate.toFixed(2)}`,
);
await cache.close();

// The default policy rejects debug-mode enclaves; today's date is past the certificates' validity.
for (const [label, verifier] of [
  ['default policy', createNitroVerifier({ clock: documentTime })],
  ['today', createNitroVerifier({ allowDebug: true })],
] as const) {
  const strict = new AttestationCache({ verifiers: [verifier] });
  try {
    await strict.get({ tee: 'nitro', evidence: document });
    console.log(`${label}: accepted`);
  } catch (error) {
    console.log(
      `${label}: rejected with ${isAttestationError(error) ? error.code : String(error)}`,
    );
  } finally {
    await strict.close();
  }
}
