#!/usr/bin/env bash
# Least-privilege login roles for crypto-data-pipeline. The postgres image runs the files in
# /docker-entrypoint-initdb.d once, when its data volume is first initialised (compose.yaml mounts
# this folder there); to apply a change to an existing volume, run this script by hand.
#
#   cdp_loader       load workers: COPY into raw.*, ledger updates in pipeline.*
#   cdp_transformer  the transform worker / dbt: reads raw.*, builds the dbt schemas
#   cdp_reader       the dashboard, Grafana, analysts: read only
#
# Only the roles, their passwords and database-level rights are set here. Schema and table grants
# need the schemas (raw, pipeline, the dbt ones), which the TypeORM migrations create after this
# script has run, so they live in the least-privilege-roles migration. compose.yaml connects each
# process kind as its role; only the one-shot migrate connects as POSTGRES_USER.
# The script is idempotent (re-running it updates the passwords).
set -euo pipefail

: "${POSTGRES_USER:?}" "${POSTGRES_DB:?}"
: "${CDP_LOADER_PASSWORD:?set CDP_LOADER_PASSWORD}"
: "${CDP_TRANSFORMER_PASSWORD:?set CDP_TRANSFORMER_PASSWORD}"
: "${CDP_READER_PASSWORD:?set CDP_READER_PASSWORD}"

# Values travel as psql variables (:'x' quotes a literal, :"x" an identifier), never pasted into
# SQL by the shell, so a password with a quote in it cannot break or inject into the script.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
  --set=db="$POSTGRES_DB" \
  --set=loader_password="$CDP_LOADER_PASSWORD" \
  --set=transformer_password="$CDP_TRANSFORMER_PASSWORD" \
  --set=reader_password="$CDP_READER_PASSWORD" <<'SQL'
-- The image already creates POSTGRES_DB; this keeps the script correct on a cluster made without it.
select format('create database %I', :'db')
 where not exists (select from pg_database where datname = :'db') \gexec

select format('create role %I', name)
  from unnest(array['cdp_loader', 'cdp_transformer', 'cdp_reader']) as name
 where not exists (select from pg_roles where rolname = name) \gexec

alter role cdp_loader      with login nosuperuser nocreatedb nocreaterole noreplication password :'loader_password';
alter role cdp_transformer with login nosuperuser nocreatedb nocreaterole noreplication password :'transformer_password';
alter role cdp_reader      with login nosuperuser nocreatedb nocreaterole noreplication password :'reader_password';

-- Nobody connects or makes temp tables by default; each role gets what it needs. The loader COPYs
-- through a session temp table and dbt builds incremental models through temp tables.
revoke all on database :"db" from public;
grant connect, temporary on database :"db" to cdp_loader, cdp_transformer;
grant connect on database :"db" to cdp_reader;

-- Read-only sessions stay read-only even if a later grant is too broad.
alter role cdp_reader set default_transaction_read_only = on;

\connect :"db"
-- PostgreSQL 15 already denies CREATE on schema public to PUBLIC; say so explicitly all the same.
revoke create on schema public from public;
SQL
