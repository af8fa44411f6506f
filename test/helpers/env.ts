/** Where the test servers are: set (with defaults) by test/global-setup.mjs before any test file runs. */
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests through jest (test/global-setup.mjs sets it)`);
  return value;
}

export const TEST_PG_ADMIN_URL = required('TEST_PG_ADMIN_URL');
export const TEST_REDIS_URL = required('TEST_REDIS_URL');
export const TEMPLATE_DB = required('TEST_TEMPLATE_DB');

export function databaseUrl(name: string): string {
  const url = new URL(TEST_PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
