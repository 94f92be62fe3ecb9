/**
 * The one polling wait of the tests: resolves with the first truthy value of `probe` (true for a
 * condition), or fails naming `what`. Each poll may take 2 s at most, so a lost connection cannot
 * hang it; a probe that throws counts as not yet.
 */
export async function waitFor<T>(
  probe: () => Promise<T> | T,
  what = 'condition',
  timeoutMs = 90_000,
  intervalMs = 50,
): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const poll = Promise.resolve().then(probe).catch(() => null);
    const value = await Promise.race([poll, new Promise<null>((r) => setTimeout(() => r(null), 2000))]);
    if (value) return value as Exclude<T, false | null | undefined>;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}
