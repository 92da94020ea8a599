#!/bin/sh
# Write the secret files deploy/compose.yaml needs, with random values, next
# to this script. An existing file is kept (run it again safely); delete a
# file to make a new one. The files are git-ignored (deploy/.gitignore).
set -eu
cd "$(dirname "$0")"
umask 077

# 24 random bytes as hex, prefixed with a letter: safe in URLs, in a NATS
# config variable (which must not start with a digit) and in a shell.
random() { printf '%s%s\n' "$1" "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"; }

write() { # NAME VALUE
	if [ -e "$1" ]; then
		echo "keep   deploy/secrets/$1"
	else
		printf '%s\n' "$2" >"$1"
		echo "wrote  deploy/secrets/$1"
	fi
}

write s3_access_key "hark$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
write s3_secret_key "$(random s)"
write nats_token "$(random t)"
write postgres_password "$(random p)"
# The index DSN carries the same password as postgres_password.
write hark_db "postgres://hark:$(cat postgres_password)@postgres:5432/hark?sslmode=disable"

# Containers read these files as their own users (hark: 10001, postgres: 999)
# through bind mounts: the files are readable, the directory is not
# searchable by other users of this machine.
chmod 0644 s3_access_key s3_secret_key nats_token postgres_password hark_db
chmod 0700 .
