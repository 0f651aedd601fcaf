#!/usr/bin/perl
# pit_auth_redis sentinel=, pit_auth_redis_read, pit_auth_redis_max_lag:
# nginx -t accepts the three read modes and refuses bad syntax with a
# clear [emerg] that never echoes a password.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use PitTest;

sub nginx_t {
    my ($loc) = @_;
    my $n = PitTest::Nginx->new(no_start => 1, http => <<"END");
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            pit_auth on;
            $loc
        }
    }
END
    my ($rc, $out, $err) = $n->test_conf;
    return ($rc, $out . $err);
}

my @good = (
    'pit_auth_redis sentinel=m 127.0.0.1:26379 localhost 127.0.0.1:26381 db=1 user=gw password=pw sentinel_user=s sentinel_password=sp;',
    'pit_auth_redis sentinel=m 127.0.0.1; pit_auth_redis_read replica; pit_auth_redis_max_lag 5s;',
    'pit_auth_redis sentinel=m 127.0.0.1; pit_auth_redis_read primary;',
    'pit_auth_redis sentinel=m 127.0.0.1; pit_auth_redis_read 127.0.0.1:6380 db=2;',
    'pit_auth_redis 127.0.0.1:6379; pit_auth_redis_read 127.0.0.1:6380 user=r password=rp;',
    'pit_auth_redis 127.0.0.1:6379; pit_auth_redis_read primary;',
);
for my $g (@good) {
    my ($rc, $out) = nginx_t($g);
    is($rc, 0, "nginx -t passes: $g") or diag $out;
}

my @bad = (
    ['no sentinel address', 'pit_auth_redis sentinel=m;',
     qr/\[emerg\].*pit_auth_redis "sentinel=m" names no sentinel/],
    ['no sentinel address, only parameters', 'pit_auth_redis sentinel=m db=1;',
     qr/\[emerg\].*pit_auth_redis "sentinel=m" names no sentinel/],
    ['empty master name', 'pit_auth_redis sentinel= 127.0.0.1;',
     qr/\[emerg\].*in pit_auth_redis "sentinel="/],
    ['unknown parameter', 'pit_auth_redis sentinel=m 127.0.0.1 bogus=1;',
     qr/\[emerg\].*invalid pit_auth_redis parameter "bogus=1"/],
    ['unknown parameter beside passwords',
     'pit_auth_redis sentinel=m 127.0.0.1 password=SECRET1 sentinel_password=SECRET2 bogus=2;',
     qr/\[emerg\].*invalid pit_auth_redis parameter "bogus=2"/],
    ['bad db', 'pit_auth_redis sentinel=m 127.0.0.1 db=x;',
     qr/\[emerg\].*invalid pit_auth_redis parameter "db=x"/],
    ['password never echoed', 'pit_auth_redis sentinel=m 127.0.0.1 password=;',
     qr/\[emerg\].*invalid pit_auth_redis parameter "password="/],
    ['sentinel_user without password',
     'pit_auth_redis sentinel=m 127.0.0.1 sentinel_user=s password=SECRET3;',
     qr/\[emerg\].*pit_auth_redis "sentinel_user=" requires "sentinel_password="/],
    ['unresolvable sentinel', 'pit_auth_redis sentinel=m no-such-host.invalid;',
     qr/\[emerg\].*host not found in pit_auth_redis "no-such-host.invalid"/],
    ['replica without sentinels',
     'pit_auth_redis 127.0.0.1:6379; pit_auth_redis_read replica;',
     qr/\[emerg\].*"pit_auth_redis_read replica" requires "pit_auth_redis sentinel=\.\.\."/],
    ['read from a unix socket',
     'pit_auth_redis 127.0.0.1:6379; pit_auth_redis_read unix:/tmp/r.sock;',
     qr/\[emerg\].*pit_auth_redis_read "unix:\/tmp\/r.sock" must be a TCP address/],
    ['read mode with parameters',
     'pit_auth_redis sentinel=m 127.0.0.1; pit_auth_redis_read replica db=1;',
     qr/\[emerg\].*invalid pit_auth_redis_read parameter "db=1"/],
    ['read fixed with unknown parameter',
     'pit_auth_redis 127.0.0.1:6379; pit_auth_redis_read 127.0.0.1:1 x=1;',
     qr/\[emerg\].*invalid pit_auth_redis parameter "x=1"/],
    ['max_lag junk',
     'pit_auth_redis sentinel=m 127.0.0.1; pit_auth_redis_max_lag soon;',
     qr/\[emerg\].*pit_auth_redis_max_lag/],
    ['unix primary with a read server',
     'pit_auth_redis unix:/tmp/r.sock; pit_auth_redis_read 127.0.0.1:1;',
     qr/\[emerg\].*"pit_auth_redis_read" requires a TCP primary/],
);
for my $b (@bad) {
    my ($name, $conf, $re) = @$b;
    my ($rc, $out) = nginx_t($conf);
    isnt($rc, 0, "nginx -t fails: $name");
    like($out, $re, "... and says why: $name");
    unlike($out, qr/SECRET/, "... no password in the message: $name");
}

done_testing();
