/**
 * Log format: JSON lines when stderr is not a terminal, colourised one-line text (pino-pretty) when
 * it is (a real pseudo-terminal, from util-linux `script`), and LOG_FORMAT forcing either.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '..');
const program = `import { createLogger } from './src/log.ts'; createLogger('info').warn({ relay: 'wss://x.example' }, 'relay failed to connect');`;

async function stderrOf(env: Record<string, string>): Promise<string> {
  const { stderr } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { cwd: root, env: { ...process.env, ...env } });
  return stderr;
}

describe('log format', () => {
  it('not a terminal: one JSON object per line', async () => {
    const line = JSON.parse((await stderrOf({ LOG_FORMAT: 'auto' })).trim());
    expect(line).toMatchObject({ level: 40, msg: 'relay failed to connect', relay: 'wss://x.example', service: 'nostr-cache' });
  });

  it('LOG_FORMAT=pretty: readable text, not JSON', async () => {
    const text = await stderrOf({ LOG_FORMAT: 'pretty' });
    expect(text).toMatch(/WARN.*relay failed to connect/);
    expect(text).toContain('relay: "wss://x.example"');
    expect(() => JSON.parse(text.trim())).toThrow();
  });

  it('stderr a terminal: colourised pretty lines; LOG_FORMAT=json keeps JSON there', async () => {
    const command = `${JSON.stringify(process.execPath)} --import tsx --input-type=module -e ${JSON.stringify(program)}`;
    const tty = await run('script', ['-qfec', command, '/dev/null'], { cwd: root, env: { ...process.env, LOG_FORMAT: 'auto' } });
    expect(tty.stdout).toContain('\u001b['); // ANSI colour (escape sequence)
    expect(tty.stdout).toMatch(/WARN.*relay failed to connect/);
    const json = await run('script', ['-qfec', command, '/dev/null'], { cwd: root, env: { ...process.env, LOG_FORMAT: 'json' } });
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ msg: 'relay failed to connect' });
  });
});
