#!/bin/sh
# Runs once, on the first start of an empty PostgreSQL volume (/docker-entrypoint-initdb.d):
# one role and one database per name in POSTGRES_DATABASES, the role owning its database and
# nothing else. Each password comes from <NAME>_DB_PASSWORD (the .env file); no password is
# written into this file. Add a database later by hand: see docs/operations.md.
set -eu
for name in ${POSTGRES_DATABASES:?}; do
    var="$(echo "$name" | tr '[:lower:]' '[:upper:]')_DB_PASSWORD"
    password="$(printenv "$var" || true)"
    if [ -z "$password" ]; then
        echo "init-databases: $var is not set; skipping database $name" >&2
        continue
    fi
    echo "init-databases: role and database $name"
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
        -v name="$name" -v password="$password" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'name', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'name') \gexec
SQL
done
