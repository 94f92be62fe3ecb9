/**
 * What an unexpected error may put in a log line: its class, the database's error code (SQLSTATE)
 * when it has one, and a bounded message with quoted values removed. Database errors carry the
 * failed query and its parameters (user content, perhaps megabytes, perhaps secrets); neither is
 * ever logged. Pure.
 */
export const MAX_SUMMARY_CHARS = 200;

export interface ErrorSummary {
  name: string;
  code: string | null;
  message: string;
}

/** Every error in the cause chain, outermost first (bounded, in case of a cycle). */
function causes(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e: unknown = error; e !== undefined && e !== null && chain.length < 8; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

/** Quoted values and long runs of data characters (hex, base64, digits) become "…". */
export function redact(message: string): string {
  const firstLine = message.split('\n', 1)[0] ?? '';
  const cleaned = firstLine
    .replace(/"[^"]*"?/g, '"…"')
    .replace(/'[^']*'?/g, "'…'")
    .replace(/[A-Za-z0-9+/=_-]{33,}/g, '…');
  return cleaned.length > MAX_SUMMARY_CHARS ? `${cleaned.slice(0, MAX_SUMMARY_CHARS)}…` : cleaned;
}

export function summarizeError(error: unknown): ErrorSummary {
  const chain = causes(error);
  const withCode = chain.find((e) => typeof (e as { code?: unknown }).code === 'string') as { code: string } | undefined;
  // The innermost error says what went wrong; outer wrappers (Drizzle's "Failed query: …") repeat the query.
  const innermost = chain[chain.length - 1];
  const message = innermost instanceof Error ? innermost.message : String(innermost);
  const name = error instanceof Error ? error.name : typeof error;
  return { name, code: withCode ? withCode.code.slice(0, 16) : null, message: redact(message) };
}
