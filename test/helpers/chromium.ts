/**
 * Flags for Debian's headless Chromium in the browser tests (as node-svc.md has them): without the
 * networking flags Chromium keeps dialling Google on a closed network. playwright's launch() already
 * gives each browser a fresh temporary --user-data-dir.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
