// Runs outside jest's module system (no TypeScript transform here), so it uses the build in dist/,
// which `npm test` produces first. It fixes where the test servers are (test/helpers/env.ts reads
// these variables in every test worker) and builds a migrated template database once per run;
// each test file clones it (CREATE DATABASE ... TEMPLATE), isolating files at millisecond cost.
import pg from 'pg';
import { runMigrations } from '../dist/core/db/data-source.js';

export default async function globalSetup() {
  process.env.TEST_PG_ADMIN_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
  process.env.TEST_REDIS_URL ??= 'redis://127.0.0.1:6379';
  process.env.TEST_TEMPLATE_DB ??= 'cdp_test_template';
  const template = process.env.TEST_TEMPLATE_DB;
  const admin = new pg.Client({ connectionString: process.env.TEST_PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${template} with (force)`);
    await admin.query(`create database ${template}`);
  } finally {
    await admin.end();
  }
  const url = new URL(process.env.TEST_PG_ADMIN_URL);
  url.pathname = `/${template}`;
  await runMigrations(url.toString());
}
