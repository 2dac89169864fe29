import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigSchema, describeConfig } from '../../src/config.js';
import { runCli } from '../support/cli.js';

/** Every command explains itself; `serve --help` lists every configuration variable. */
describe('sigcast help and version', () => {
  it('prints the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(await runCli(['--version'])).toMatchObject({ code: 0, stdout: `sigcast ${version}\n` });
  });

  it('lists the commands', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['sigcast serve', 'sigcast tail <channel...>', 'sigcast publish', 'sigcast --version']) expect(result.stdout).toContain(command);
  });

  it('describes every configuration variable with its default', () => {
    const variables = describeConfig();
    expect(variables.map((variable) => variable.name)).toEqual(Object.keys(ConfigSchema.shape));
    for (const variable of variables) expect({ name: variable.name, described: variable.description.length > 10 }).toEqual({ name: variable.name, described: true });
    expect(variables.find((variable) => variable.name === 'PORT')).toMatchObject({ defaultValue: '8080' });
    expect(variables.find((variable) => variable.name === 'UWS_ALLOW_FALLBACK')).toMatchObject({ defaultValue: 'false' });
    expect(variables.find((variable) => variable.name === 'REDIS_URL')).toMatchObject({ defaultValue: undefined });
  });

  it('serve --help lists each variable, its flag, default and meaning', async () => {
    const result = await runCli(['serve', '--help']);
    expect(result.code).toBe(0);
    for (const { name, defaultValue, description } of describeConfig()) {
      const flag = `--${name.toLowerCase().replace(/_/g, '-')}`;
      expect(result.stdout).toContain(`  ${name} (${flag})${defaultValue === undefined ? '' : `, default ${defaultValue}`}\n      ${description}\n`.trimEnd());
    }
  });

  it.each([
    ['tail', ['--since', '--epoch', '--last', '--conflate', '--json', '--encoding', '--url', '--token', '--help']],
    ['publish', ['--symbol', '--side', '--strength', '--price', '--strategy', '--channel', '--id', '--ts', '--meta', '--json', '--transport', '--batch', '--linger', '--retry-for', '--url', '--token', '--help']],
  ])('%s --help lists every option', async (command, flags) => {
    const result = await runCli([command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`usage: sigcast ${command}`);
    for (const flag of flags) expect(result.stdout).toMatch(new RegExp(`^ +(-h, )?${flag} `, 'm'));
  });

  it('rejects an unknown command with status 2', async () => {
    const result = await runCli(['launch']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "launch"');
  });
});
