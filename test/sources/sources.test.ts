import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/model/errors.js';
import { resolveInputs } from '../../src/sources/sources.js';

// `alf analyze DIR`: a directory input is every file below it; symlinks that lead out of it are
// passed over (as in `alf scan`), named, and read with --follow-symlinks.
describe('a directory given to alf analyze', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alf-inputs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const pods = join(dir, 'pods');
  mkdirSync(pods);
  writeFileSync(join(pods, '0.log'), 'a\n');
  writeFileSync(join(pods, '1.log'), 'b\n');

  it('of links only (Kubernetes /var/log/containers) fails with a line that says what to pass, and reads them with followSymlinks', async () => {
    const containers = join(dir, 'containers');
    mkdirSync(containers);
    symlinkSync(join(pods, '0.log'), join(containers, 'api-0.log'));
    symlinkSync(join(pods, '1.log'), join(containers, 'api-1.log'));
    const refused = resolveInputs([containers]);
    await expect(refused).rejects.toBeInstanceOf(InputError);
    await expect(refused).rejects.toThrow(`directory ${containers} holds no files, only 2 symlinks leading out of it (${join(containers, 'api-0.log')}): --follow-symlinks reads them`);
    const followed = await resolveInputs([containers], { followSymlinks: true });
    expect(followed.map((source) => source.name)).toEqual([join(containers, 'api-0.log'), join(containers, 'api-1.log')]);
  });

  it('with files and links out reads the files and names the links it passed over', async () => {
    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    writeFileSync(join(mixed, 'access.log'), 'c\n');
    symlinkSync(join(pods, '0.log'), join(mixed, 'elsewhere.log'));
    const skipped: string[] = [];
    const sources = await resolveInputs([mixed], { onSymlinksSkipped: (directory, links) => skipped.push(directory, ...links) });
    expect(sources.map((source) => source.name)).toEqual([join(mixed, 'access.log')]);
    expect(skipped).toEqual([mixed, join(mixed, 'elsewhere.log')]);
  });

  it('with nothing in it says so', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    await expect(resolveInputs([empty])).rejects.toThrow(`directory ${empty} holds no files`);
  });
});
