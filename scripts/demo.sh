#!/bin/bash
# pit-auth demo: bash scripts/demo.sh start | stop | status
#
# start: installs what is missing, builds, starts redis-server and nginx
# (stock /usr/sbin/nginx loading build/ngx_http_pit_auth_module.so) on
# free localhost ports, provisions a demo integration with pitctl and shows
# with curl what the gateway does; then starts the admin API (pitctl serve,
# trusting only 127.0.0.2, where nginx's admin server connects from)
# behind an nginx server with auth_basic (user "demo", a generated
# password printed once) and creates and lists an integration with curl.  Everything lives in ./run/ (git-ignored);
# they keep running until `make demo-stop`.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
run="$repo/run"
nginx=/usr/sbin/nginx
pitctl="$repo/build/pitctl"
module="$repo/build/ngx_http_pit_auth_module.so"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

free_port() {
    perl -MIO::Socket::INET -e \
        'print IO::Socket::INET->new(LocalAddr => "127.0.0.1",
             LocalPort => 0, Listen => 1, ReuseAddr => 1)->sockport'
}

json_field() {
    perl -MJSON::PP -0777 -ne 'print JSON::PP->new->decode($_)->{'"$1"'}'
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop() {
    if alive "$run/serve.pid"; then
        kill -TERM "$(cat "$run/serve.pid")"
        echo "demo: pitctl serve stopped"
    fi
    if alive "$run/nginx.pid"; then
        kill -QUIT "$(cat "$run/nginx.pid")"
        echo "demo: nginx stopped"
    fi
    if alive "$run/redis.pid"; then
        kill -TERM "$(cat "$run/redis.pid")"
        echo "demo: redis-server stopped"
    fi
    for i in $(seq 50); do
        alive "$run/nginx.pid" || alive "$run/redis.pid" \
            || alive "$run/serve.pid" || break
        sleep 0.1
    done
    rm -f "$run/nginx.pid" "$run/redis.pid" "$run/serve.pid"
}

prepare() {
    local need=""
    for c in redis-server redis-cli curl perl; do
        command -v "$c" >/dev/null 2>&1 || need=1
    done
    [ -x "$nginx" ] && [ -d /usr/share/nginx/src ] || need=1
    if [ -n "$need" ]; then
        say "installing what is missing"
        sh "$repo/scripts/install-deps.sh"
    fi
    if [ ! -x "$pitctl" ] || [ ! -f "$module" ]; then
        say "building"
        make -C "$repo" all
    fi
}

write_conf() {
    cat > "$run/nginx.conf" <<END
load_module $module;
pid $run/nginx.pid;
error_log $run/error.log info;
worker_processes 2;
events { worker_connections 1024; }
http {
    log_format pit '\$remote_addr "\$request_method \$uri" \$status '
                   'pit=\$pit_auth_status iid=\$pit_integration_id '
                   'hint=\$pit_token_hint';
    access_log $run/access.log pit;
    client_body_temp_path $run/tmp/body;
    proxy_temp_path $run/tmp/proxy;
    fastcgi_temp_path $run/tmp/fastcgi;
    uwsgi_temp_path $run/tmp/uwsgi;
    scgi_temp_path $run/tmp/scgi;

    pit_auth_redis 127.0.0.1:$redis_port;
    pit_auth_redis_timeout 100ms 250ms;
    pit_auth_cache zone=pit_auth:10m;
    pit_auth_last_used on;

    # reading needs contacts.readonly, anything else contacts.write
    map \$request_method \$contacts_scope {
        GET     contacts.readonly;
        HEAD    contacts.readonly;
        default contacts.write;
    }

    server {
        listen 127.0.0.1:$api_port;

        location /contacts/ {
            pit_auth on;
            pit_auth_scope \$contacts_scope;
            proxy_pass http://127.0.0.1:$up_port;
        }

        location /locations/ {
            pit_auth on;
            pit_auth_scope locations.readonly;
            proxy_pass http://127.0.0.1:$up_port;
        }

        location = /pit_auth_stats {
            pit_auth_stats;
            allow 127.0.0.1;
            deny all;
        }
    }

    # the admin API: auth_basic here, pitctl serve behind (trusting only
    # 127.0.0.2, nginx's side of the connection); admin tokens
    # (Bearer pat-...) pass without a password
    map \$http_authorization \$pit_admin_realm {
        "~*^bearer[ \\t]+pat-"  off;
        default                 "pit-auth admin";
    }
    map \$http_authorization \$pit_admin_bearer {
        "~*^bearer[ \\t]+pat-"  \$http_authorization;
        default                 "";
    }
    server {
        listen 127.0.0.1:$admin_port;
        # the admin API (/api/v1/...) and the console (/, pitctl serve
        # --console): the same auth_basic, both to pitctl serve
        location /api/ {
            auth_basic \$pit_admin_realm;
            auth_basic_user_file $run/htpasswd;
            proxy_set_header X-Remote-User \$remote_user;
            proxy_set_header Authorization \$pit_admin_bearer;
            proxy_set_header Host \$http_host;
            proxy_bind 127.0.0.2;
            proxy_pass http://127.0.0.1:$serve_port;
        }
        location / {
            auth_basic \$pit_admin_realm;
            auth_basic_user_file $run/htpasswd;
            proxy_set_header X-Remote-User \$remote_user;
            proxy_set_header Authorization \$pit_admin_bearer;
            proxy_set_header Host \$http_host;
            proxy_bind 127.0.0.2;
            proxy_pass http://127.0.0.1:$serve_port;
        }
    }

    # the "API": shows what reached it
    server {
        listen 127.0.0.1:$up_port;
        default_type application/json;
        return 200 '{"upstream_saw":{"X-Pit-Integration-Id":"\$http_x_pit_integration_id","X-Pit-Account-Id":"\$http_x_pit_account_id","X-Pit-Scopes":"\$http_x_pit_scopes","Authorization":"\$http_authorization"}}\n';
    }
}
END
}

show() {
    local title=$1; shift
    say "$title"
    { printf '$ curl -i'; printf " %q" "$@"; echo; } \
        | sed -E 's/pit-[0-9a-f-]{36}/$TOKEN/g'
    curl -sS -i "$@" | sed -E 's/\r$//'
}

start() {
    prepare
    stop >/dev/null 2>&1 || true
    mkdir -p "$run/tmp"
    rm -f "$run"/*.log
    chmod 0755 "$run" "$run/tmp"

    redis_port=$(free_port)
    api_port=$(free_port)
    up_port=$(free_port)
    admin_port=$(free_port)
    serve_port=$(free_port)
    admin_pw=$(openssl rand -hex 12)
    printf 'demo:%s\n' "$(openssl passwd -apr1 "$admin_pw")" > "$run/htpasswd"
    chmod 0644 "$run/htpasswd"

    say "starting redis-server on 127.0.0.1:$redis_port"
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' \
        --appendonly no --daemonize yes --dir "$run" \
        --pidfile "$run/redis.pid" --logfile "$run/redis.log"
    for i in $(seq 50); do
        redis-cli -p "$redis_port" PING >/dev/null 2>&1 && break
        sleep 0.1
    done

    write_conf
    say "starting nginx on 127.0.0.1:$api_port (module $module)"
    "$nginx" -p "$run" -c "$run/nginx.conf" -t -q
    "$nginx" -p "$run" -c "$run/nginx.conf"

    export PIT_REDIS_URL="redis://127.0.0.1:$redis_port"
    say "provisioning a demo integration with pitctl"
    out=$("$pitctl" --json create --name "Demo integration" \
          --description "made by make demo" --account demo-location \
          --scope contacts.readonly --scope locations.readonly \
          --created-by demo)
    token=$(printf '%s' "$out" | json_field token)
    id=$(printf '%s' "$out" | json_field id)
    (umask 077; printf '%s\n' "$token" > "$run/demo.token")
    "$pitctl" show "$id" || true

    api="http://127.0.0.1:$api_port"
    show "no token: 401" "$api/contacts/"
    show "with the token: 200, and what the upstream saw" \
        -H "Authorization: Bearer $token" -H "X-Pit-Account-Id: spoofed" \
        "$api/contacts/"
    show "a scope the token lacks (contacts.write): 403" -X POST \
        -H "Authorization: Bearer $token" "$api/contacts/"
    show "the cache's counters" "$api/pit_auth_stats"

    say "the admin API: pitctl serve behind nginx (auth_basic)"
    "$pitctl" --as demo admin add demo --account demo-location >/dev/null
    "$pitctl" serve --listen "127.0.0.1:$serve_port" \
        --trusted-proxy 127.0.0.2 --access-log "$run/serve.log" \
        --console "$repo/console" >>"$run/serve.log" 2>&1 &
    echo $! > "$run/serve.pid"
    for i in $(seq 50); do
        curl -fs "http://127.0.0.1:$serve_port/healthz" >/dev/null 2>&1 \
            && break
        sleep 0.1
    done
    admin="http://127.0.0.1:$admin_port"
    echo "admin user: demo   password (shown once): $admin_pw"
    echo "console:    $admin/   (sign in as demo with that password)"
    say "create an integration through the admin API: 201 and its token"
    echo "\$ curl -u demo:\$PASSWORD -H 'Content-Type: application/json' -d '{...}' $admin/api/v1/accounts/demo-location/integrations"
    curl -sS -u "demo:$admin_pw" -H 'Content-Type: application/json' \
        -d '{"name":"Made through the API","scopes":["contacts.readonly"]}' \
        "$admin/api/v1/accounts/demo-location/integrations" \
        | sed -E 's/"(pit-[0-9a-f]{4})[0-9a-f-]{28}([0-9a-f]{4})"/"\1…\2 (shown once)"/'
    echo
    say "list the account's integrations through the admin API"
    echo "\$ curl -u demo:\$PASSWORD $admin/api/v1/accounts/demo-location/integrations"
    curl -sS -u "demo:$admin_pw" \
        "$admin/api/v1/accounts/demo-location/integrations" \
        | perl -MJSON::PP -0777 -ne 'for (@{decode_json($_)}) {
              printf "  %s  %-24s  %s  created by %s\n", $_->{id}, $_->{name},
                     join(",", @{$_->{scopes}}), $_->{created_by} }'

    cat <<END

== running
  API (nginx + pit_auth):  $api     (try $api/contacts/ and $api/locations/)
  redis-server:            127.0.0.1:$redis_port
  demo integration:        $id
  token:                   in $run/demo.token
  pitctl:                  PIT_REDIS_URL=$PIT_REDIS_URL $pitctl list
  cache counters:          $api/pit_auth_stats
  admin API (auth_basic):  $admin/api/v1/  user demo (password above)
  console (browser):       $admin/  login: demo, the password above
                           pitctl serve on 127.0.0.1:$serve_port, log $run/serve.log
  logs:                    $run/error.log, $run/access.log
  stop them with:          make demo-stop
END
    cat > "$run/demo.env" <<END
PIT_REDIS_URL=$PIT_REDIS_URL
PIT_DEMO_API=$api
END
}

status() {
    alive "$run/nginx.pid" && echo "nginx: running" || echo "nginx: stopped"
    alive "$run/redis.pid" && echo "redis: running" || echo "redis: stopped"
    alive "$run/serve.pid" && echo "pitctl serve: running" \
        || echo "pitctl serve: stopped"
    [ -f "$run/demo.env" ] && cat "$run/demo.env"
    return 0
}

case "${1:-start}" in
    start)  start ;;
    stop)   stop ;;
    status) status ;;
    *)      echo "usage: $0 start|stop|status" >&2; exit 1 ;;
esac
