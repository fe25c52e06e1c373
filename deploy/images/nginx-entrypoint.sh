#!/bin/sh
# What the official nginx image's entrypoint does with templates, for its Debian stand-in:
# /etc/nginx/templates/NAME.template becomes /etc/nginx/conf.d/NAME, with envsubst filling in
# only the variables whose names match NGINX_ENVSUBST_FILTER (nginx's own $host stays as it is).
set -eu
if [ "${1:-}" = nginx ]; then
    filter="${NGINX_ENVSUBST_FILTER:-}"
    names=$(env | cut -d= -f1 | grep -E "^${filter}" | sed 's/^/$/' | tr '\n' ' ')
    for template in /etc/nginx/templates/*.template; do
        [ -f "$template" ] || continue
        output="/etc/nginx/conf.d/$(basename "$template" .template)"
        envsubst "$names" < "$template" > "$output"
        echo "$0: rendered $template into $output"
    done
fi
exec "$@"
