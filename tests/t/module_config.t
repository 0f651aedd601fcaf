#!/usr/bin/perl
# Directives: nginx -t rejects bad values with a clear [emerg]; the module
# loads into the stock /usr/sbin/nginx; unix sockets, db=, AUTH, key prefix
# and hash key work end to end with pitctl.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use PitTest;
use PitModule;

my $top = PitTest::top();
ok(-f "$top/build/ngx_http_pit_auth_module.so", 'module built');

sub nginx_t {
    my ($http) = @_;
    my $n = PitTest::Nginx->new(no_start => 1, http => $http);
    my ($rc, $out, $err) = $n->test_conf;
    return ($rc, $out . $err);
}

my ($rc, $out) = nginx_t(<<'END');
    pit_auth_redis 127.0.0.1:6379 db=2;
    pit_auth_redis_timeout 50ms 1s;
    pit_auth_key_prefix "acme:pit:";
    pit_auth_realm "HighLevel API";
    pit_auth_annotate on;
    pit_auth_hide_token off;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            pit_auth on;
            pit_auth_scope contacts.readonly "calendars.write|calendars/events.write";
            pit_auth_scope $http_x_required_scope;
            pit_auth_account $arg_location;
            pit_auth_scope_status 401;
        }
        location /u { pit_auth on; pit_auth_redis unix:/run/redis.sock; }
        location /off { pit_auth off; }
    }
END
is($rc, 0, 'a full configuration passes nginx -t') or diag $out;

my @bad = (
    ['pit_auth on; with no Redis', 'pit_auth on;',
     qr/\[emerg\] "pit_auth" is on but no "pit_auth_redis" is configured/],
    ['timeout zero', 'pit_auth_redis 127.0.0.1:1; pit_auth_redis_timeout 0 1s;',
     qr/\[emerg\] invalid pit_auth_redis_timeout "0"/],
    ['timeout junk', 'pit_auth_redis 127.0.0.1:1; pit_auth_redis_timeout 1s x;',
     qr/\[emerg\] invalid pit_auth_redis_timeout "x"/],
    ['timeout arity', 'pit_auth_redis_timeout 1s;',
     qr/\[emerg\] invalid number of arguments/],
    ['prefix', 'pit_auth_key_prefix "a b";',
     qr/\[emerg\] invalid pit_auth_key_prefix "a b"/],
    ['scope expression', 'pit_auth_scope "a||b";',
     qr/\[emerg\] invalid pit_auth_scope "a\|\|b"/],
    ['scope name', 'pit_auth_scope Contacts!;',
     qr/\[emerg\] invalid pit_auth_scope "Contacts!"/],
    ['scope status', 'pit_auth_scope_status 402;',
     qr/\[emerg\] invalid value "402" in "pit_auth_scope_status", it must be "403" or "401"/],
    ['ambiguous path', 'pit_auth_ambiguous_path maybe;',
     qr/\[emerg\] invalid value "maybe" in "pit_auth_ambiguous_path", it must be "deny" or "allow"/],
    ['realm', q{pit_auth_realm 'a"b';}, qr/\[emerg\] invalid pit_auth_realm/],
    ['flag', 'pit_auth maybe;', qr/\[emerg\] invalid value "maybe"/],
    ['unresolvable host', 'pit_auth_redis no-such-host.invalid:6379;',
     qr/\[emerg\] host not found in pit_auth_redis/],
    ['bad port', 'pit_auth_redis 127.0.0.1:99999;',
     qr/\[emerg\] invalid port in pit_auth_redis/],
    ['unknown parameter', 'pit_auth_redis 127.0.0.1:6379 foo=1;',
     qr/\[emerg\] invalid pit_auth_redis parameter "foo=1"/],
    ['bad db', 'pit_auth_redis 127.0.0.1:6379 db=x;',
     qr/\[emerg\] invalid pit_auth_redis parameter "db=x"/],
    ['user without password', 'pit_auth_redis 127.0.0.1:6379 user=u;',
     qr/\[emerg\] pit_auth_redis "user=" requires "password="/],
    ['unix path', 'pit_auth_redis unix:relative;',
     qr/\[emerg\] invalid unix socket path/],
    ['duplicate', 'pit_auth_redis 127.0.0.1:1; pit_auth_redis 127.0.0.1:2;',
     qr/\[emerg\] "pit_auth_redis" directive is duplicate/],
    ['hash key file', 'pit_auth_hash_key /nonexistent/key;',
     qr/\[emerg\] pit_auth_hash_key "\/nonexistent\/key": /],
);
for my $b (@bad) {
    my ($name, $conf, $re) = @$b;
    ($rc, $out) = nginx_t(<<"END");
    $conf
    server { listen 127.0.0.1:%%PORT%%; location / { } }
END
    isnt($rc, 0, "nginx -t fails: $name");
    $out =~ s/\[emerg\] \d+#\d+: /[emerg] /g;
    like($out, $re, "clear [emerg]: $name");
}

($rc, $out) = nginx_t(<<'END');
    pit_auth_redis 127.0.0.1:6379 password=hunter2hunter2 bogus;
    server { listen 127.0.0.1:%%PORT%%; }
END
unlike($out, qr/hunter2/, 'a password is never echoed');

# found only when http{} is merged: the error names the "pit_auth on" line
{
    my $n = PitTest::Nginx->new(no_start => 1, http => <<'END');
    server {
        listen 127.0.0.1:%%PORT%%;
        location /a { }
        location /b {
            pit_auth on;
        }
    }
END
    my ($rc2, $o1, $o2) = $n->test_conf;
    my $o = $o1 . $o2;
    isnt($rc2, 0, 'pit_auth on without Redis fails nginx -t');
    my ($file, $line) = $o =~ /configured for it in (\S+):(\d+)/;
    ok($line, 'the error names a file and line') or diag $o;
    my @lines = split /\n/, PitTest::slurp($file // '/dev/null');
    like($lines[($line // 1) - 1] // '', qr/pit_auth on;/,
         'that line is the "pit_auth on" directive');
}

# --- end to end: unix socket, db, AUTH, prefix, hash key --------------------

my $dir = tempdir(CLEANUP => 1);
chmod 0755, $dir;
my $redis = PitTest::Redis->new(dir => $dir, extra => [
    '--unixsocket', "$dir/redis.sock", '--unixsocketperm', '777']);
my $rport = $redis->port;
my $keyfile = "$dir/hash.key";
open my $fh, '>', $keyfile or die;
print $fh "0123456789abcdef0123456789abcdef\n";
close $fh;
chmod 0644, $keyfile;

sub made {
    my ($url, @args) = @_;
    my ($rc, $data, $o, $err) = PitTest::Pitctl::json($url, @args, 'create',
        '--name', "n$$-" . rand(), '--account', 'acct1',
        '--scope', 'contacts.readonly', ref $args[-1] ? () : ());
    die "pitctl create: $err" if $rc;
    return $data->{token};
}

my $plain = made($redis->url);
my $db3 = made($redis->url . '/3');
my $pref = made($redis->url, '--prefix', 'acme:');
# pitctl marks a store with its hash mode: the keyed integration lives in
# a database of its own
my ($hrc, $hdata, $hout, $herr) = PitTest::Pitctl::json($redis->url . '/5',
    '--hash-key',
    $keyfile, 'create', '--name', "h$$", '--account', 'acct1', '--scope',
    'contacts.readonly');
my $hashed = $hdata->{token} or diag $herr;

# a second Redis that wants a password, and an ACL user on the first
my $redis2 = PitTest::Redis->new;
my $r2tok = made($redis2->url);
$redis2->cmd('CONFIG', 'SET', 'requirepass', 'sekret');
my $r2 = '127.0.0.1:' . $redis2->port;
$redis->cmd('ACL', 'SETUSER', 'pit', 'on', '>pitpw', '~*', '+@all');

my $t = PitModule->new(redis => $redis, server => <<"END");
        location /unix/ { pit_auth on; pit_auth_redis unix:$dir/redis.sock;
                          return 204; }
        location /db3/ { pit_auth on; pit_auth_redis %%REDIS%% db=3;
                         empty_gif; }
        location /unix-db3/ { pit_auth on;
                              pit_auth_redis unix:$dir/redis.sock db=3;
                              empty_gif; }
        location /prefix/ { pit_auth on; pit_auth_key_prefix acme:;
                            empty_gif; }
        location /hashed/ { pit_auth on; pit_auth_hash_key $keyfile;
                            pit_auth_redis %%REDIS%% db=5; empty_gif; }
        location /unhashed/ { pit_auth on; pit_auth_redis %%REDIS%% db=5;
                              empty_gif; }
        location /auth/ { pit_auth on;
                          pit_auth_redis $r2 password=sekret;
                          empty_gif; }
        location /acl/ { pit_auth on;
                         pit_auth_redis %%REDIS%% user=pit password=pitpw;
                         empty_gif; }
        location /badauth/ { pit_auth on;
                             pit_auth_redis $r2 password=wrong;
                             empty_gif; }
        location /gif/ { pit_auth on; empty_gif; }
END

is($t->bearer('/gif/x', $plain)->{status}, 200, 'tcp: 200');
is($t->bearer('/unix-db3/x', $plain)->{status}, 401,
   'unix socket, db 3: a db 0 token is unknown');
is($t->bearer('/unix-db3/x', $db3)->{status}, 200, 'unix socket, db 3: 200');
is($t->bearer('/db3/x', $db3)->{status}, 200, 'db=3: 200');
is($t->bearer('/gif/x', $db3)->{status}, 401, 'db 0: a db 3 token is unknown');
is($t->bearer('/prefix/x', $pref)->{status}, 200, 'key prefix: 200');
is($t->bearer('/gif/x', $pref)->{status}, 401, 'default prefix: unknown');
is($t->bearer('/hashed/x', $hashed)->{status}, 200, 'hash key: 200');
is($t->bearer('/unhashed/x', $hashed)->{status}, 401,
   'no hash key: unknown');

is($t->bearer('/auth/x', $r2tok)->{status}, 200, 'AUTH password: 200');
is($t->bearer('/acl/x', $plain)->{status}, 200, 'AUTH user password: 200');
is($t->bearer('/badauth/x', $r2tok)->{status}, 503, 'wrong password: 503');
my $log = $t->error_log;
like($log, qr/\[error\].*AUTH failed/, 'wrong password: logged');
unlike($log, qr/sekret|pitpw/, 'passwords never logged');

done_testing();
