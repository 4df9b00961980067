#!/bin/sh
# First start of the compose PostgreSQL: the login role the portal workers use.
# Its rights are granted by `portal db upgrade` (PORTAL_DB_APP_ROLE=mdo_app).
set -eu
app_password="$(cat "$APP_PASSWORD_FILE")"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     --set app_password="$app_password" <<'SQL'
CREATE ROLE mdo_app LOGIN PASSWORD :'app_password';
GRANT CONNECT ON DATABASE mdo TO mdo_app;
GRANT USAGE ON SCHEMA public TO mdo_app;
SQL
