/**
 * FNV-1a, 32 bits: a stable, fast hash for deterministic identities (change invoice keys)
 * and write shards. Not for security.
 */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}
