#!/usr/bin/env node
import { requireCodegenDependencies } from './dependencies.js';

// ts-morph is an optional peer dependency of koban: production installs skip it. It is checked
// before anything imports it, so a missing one gets a message saying what to install.
const missing = await requireCodegenDependencies();
if (missing) {
  process.stderr.write(`${missing}\n`);
  process.exitCode = 2;
} else {
  const { main } = await import('./cli.js');
  process.exitCode = await main(process.argv.slice(2), {
    cwd: process.cwd(),
    stdout: process.stdout,
    stderr: process.stderr,
  });
}
