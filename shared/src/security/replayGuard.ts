/**
 * Each signature is usable once: remembered until its timestamp leaves the acceptance window,
 * after which the timestamp check refuses it anyway. In-process by default; a shared store
 * implements the same port when several processes take commands.
 */
export interface ReplayGuard {
  /**
   * True the first time `signature` is claimed before `expiresAtMs`, false on every replay. It
   * takes the signature's bytes, not a header's spelling of them: base64url has several spellings
   * of the same bytes.
   */
  claim(signature: Uint8Array, expiresAtMs: number): boolean;
}

export const createInMemoryReplayGuard = (clock: () => number): ReplayGuard => {
  const seen = new Map<string, number>();
  let nextSweep = 0;
  return {
    claim(signature, expiresAtMs) {
      const hex = Buffer.from(signature).toString('hex');
      const now = clock();
      if (now >= nextSweep) {
        for (const [key, expiry] of seen) if (expiry <= now) seen.delete(key);
        nextSweep = now + 10_000;
      }
      const known = seen.get(hex);
      if (known !== undefined && known > now) return false;
      seen.set(hex, expiresAtMs);
      return true;
    },
  };
};
