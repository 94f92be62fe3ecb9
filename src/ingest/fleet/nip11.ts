/**
 * NIP-11 relay information: fetched over HTTP(S) from the relay's URL with
 * `Accept: application/nostr+json`, validated loosely (relays vary), and reduced to the limits the
 * daemon uses to size its requests.
 */
import { z } from 'zod';

const limitationSchema = z
  .object({
    max_limit: z.number().int().positive().optional(),
    max_subscriptions: z.number().int().positive().optional(),
    max_message_length: z.number().int().positive().optional(),
    auth_required: z.boolean().optional(),
    created_at_lower_limit: z.number().int().optional(),
  })
  .passthrough();

const infoSchema = z
  .object({
    name: z.string().optional(),
    software: z.string().optional(),
    version: z.string().optional(),
    supported_nips: z.array(z.union([z.number(), z.string()])).optional(),
    limitation: limitationSchema.optional(),
  })
  .passthrough();

export type RelayInformation = z.infer<typeof infoSchema>;

export function relayHttpUrl(wsUrl: string): string {
  return wsUrl.replace(/^ws(s?):\/\//i, 'http$1://');
}

/** The relay's NIP-11 document, or null when it has none (or not in time). Never throws. */
export async function fetchRelayInformation(wsUrl: string, timeoutMs = 5000): Promise<RelayInformation | null> {
  try {
    const response = await fetch(relayHttpUrl(wsUrl), {
      headers: { accept: 'application/nostr+json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return null;
    const parsed = infoSchema.safeParse(await response.json());
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export interface RelayLimits {
  maxLimit: number | null;
  maxSubscriptions: number | null;
  authRequired: boolean;
  supportsNip77: boolean;
}

export function limitsOf(info: RelayInformation | null): RelayLimits {
  const nips = (info?.supported_nips ?? []).map(Number);
  return {
    maxLimit: info?.limitation?.max_limit ?? null,
    maxSubscriptions: info?.limitation?.max_subscriptions ?? null,
    authRequired: info?.limitation?.auth_required ?? false,
    supportsNip77: nips.includes(77),
  };
}
