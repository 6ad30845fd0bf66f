// Preloaded into alf child processes by test/scan/cli.ts: writes the peak RSS (KiB) at exit.
import { writeFileSync } from 'node:fs';

const file = process.env.ALF_TEST_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
