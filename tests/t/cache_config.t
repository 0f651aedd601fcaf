#!/usr/bin/perl
# The cache's directives (issue #4): pit_auth_cache, pit_auth_last_used and
# pit_auth_stats pass or fail nginx -t with a clear [emerg]; a zone shared
# by several locations and "pit_auth_cache off" work.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use PitTest;
use PitModule;
use PitCache;

sub nginx_t {
    my ($http) = @_;
    my $n = PitTest::Nginx->new(no_start => 1, http => $http);
    my ($rc, $out, $err) = $n->test_conf;
    return ($rc, $out . $err);
}

my ($rc, $out) = nginx_t(<<'END');
    pit_auth_redis 127.0.0.1:6379;
    pit_auth_cache zone=auth:10m ttl=30s negative_ttl=2s stale=1m;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { pit_auth on; pit_auth_last_used on interval=5m; }
        location /b { pit_auth on; pit_auth_cache zone=auth; }
        location /c { pit_auth on; pit_auth_cache off; }
        location /d { pit_auth on; pit_auth_cache zone=other:1m stale=0; }
        location = /stats { pit_auth_stats; allow 127.0.0.1; deny all; }
    }
END
is($rc, 0, 'a full configuration passes nginx -t') or diag $out;

my $R = 'pit_auth_redis 127.0.0.1:1;';
my @bad = (
    ['no zone', "$R pit_auth_cache ttl=1s;",
     qr/\[emerg\].*"pit_auth_cache" must have "zone" parameter/],
    ['zone too small', "$R pit_auth_cache zone=a:8k;",
     qr/\[emerg\].*invalid zone size "zone=a:8k"/],
    ['bad size', "$R pit_auth_cache zone=a:lots;",
     qr/\[emerg\].*invalid zone size "zone=a:lots"/],
    ['ttl zero', "$R pit_auth_cache zone=a:1m ttl=0;",
     qr/\[emerg\].*invalid parameter "ttl=0"/],
    ['bad stale', "$R pit_auth_cache zone=a:1m stale=x;",
     qr/\[emerg\].*invalid parameter "stale=x"/],
    ['unknown parameter', "$R pit_auth_cache zone=a:1m size=2;",
     qr/\[emerg\].*invalid parameter "size=2"/],
    ['zone without size', "$R pit_auth_cache zone=a;",
     qr/\[emerg\].*zero size shared memory zone "a"/],
    ['parameters on a reference',
     "$R pit_auth_cache zone=a:1m; server { location / {"
     . " pit_auth_cache zone=a ttl=5s; } }",
     qr/\[emerg\].*ttl, negative_ttl and stale of zone "a" belong where its size/],
    ['declared twice',
     "$R pit_auth_cache zone=a:1m; server { location / {"
     . " pit_auth_cache zone=a:1m; } }",
     qr/\[emerg\].*duplicate zone "a"/],
    ['two stores, one zone',
     "$R pit_auth_cache zone=a:1m; server { listen 127.0.0.1:%%PORT%%;"
     . " location / { pit_auth on; }"
     . " location /x { pit_auth on; pit_auth_key_prefix other:; } }",
     qr/\[emerg\].*pit_auth_cache zone "a" is used with another/],
    ['last used without a cache',
     "$R server { listen 127.0.0.1:%%PORT%%; location / { pit_auth on;"
     . " pit_auth_last_used on; } }",
     qr/\[emerg\].*"pit_auth_last_used" requires "pit_auth_cache"/],
    ['last used junk', "pit_auth_last_used maybe;",
     qr/\[emerg\].*invalid value "maybe"/],
    ['last used interval', "pit_auth_last_used on interval=0;",
     qr/\[emerg\].*invalid parameter "interval=0"/],
    ['stats outside a location', "pit_auth_stats;",
     qr/\[emerg\].*"pit_auth_stats" directive is not allowed here/],
);

for my $b (@bad) {
    my ($name, $http, $re) = @$b;
    my ($rc, $out) = nginx_t($http);
    isnt($rc, 0, "$name: nginx -t fails");
    like($out, $re, "$name: message") or diag $out;
}

# one zone for two locations; "off" asks Redis every time
my $t = PitCache::nginx(workers => 1, server => <<'END');
        location /other/ {
            pit_auth on;
            pit_auth_cache zone=auth;
            proxy_pass %%UP%%;
        }
        location /nocache/ {
            pit_auth on;
            pit_auth_cache off;
            proxy_pass %%UP%%;
        }
END
my ($id, $tok) = $t->token();
my $g0 = PitCache::calls($t->redis, 'get');
is($t->bearer('/api/x', $tok)->{status}, 200, '/api/: 200');
is($t->bearer('/other/x', $tok)->{status}, 200, '/other/: 200');
is(PitCache::calls($t->redis, 'get') - $g0, 1, 'one zone, one GET');
$t->bearer('/nocache/x', $tok) for 1 .. 3;
is(PitCache::calls($t->redis, 'get') - $g0, 4, 'pit_auth_cache off: a GET '
   . 'per request');

my $r = $t->get('/stats');
is(PitTest::HTTP::header($r, 'Content-Type'), 'application/json',
   'stats: application/json');
like($r->{body}, qr/^\{"zones":\{"auth":\{"size":1048576,"free":\d+,/,
     'stats: JSON');
is($t->get('/stats', 'X' => 'y')->{status}, 200, 'stats: GET');
is(PitTest::HTTP::request($t->port, 'POST /stats')->{status}, 405,
   'stats: POST 405');

done_testing();
