#!/bin/sh
# Run once by the postgres image when it creates the primary's data directory: let
# replicas on the compose network stream its WAL (as the superuser HoT connects as).
set -eu
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
