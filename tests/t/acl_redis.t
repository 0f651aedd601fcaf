#!/usr/bin/perl
# Least privilege: a real Redis runs with scripts/redis-acl.conf (default
# user disabled, pit-gateway for nginx, pit-admin for pitctl); the module
# authenticates as pit-gateway and pitctl as pit-admin, end to end.  The
# gateway user gets NOPERM on writing a token key, on FLUSHALL and on
# everything else it does not need; it may do what the lookup, last-used
# and invalidation-subscriber connections do.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;

my $top = PitTest::top();
my $dir = tempdir(CLEANUP => 1);
my %pw = (gateway => join('', map { sprintf '%02x', int rand 256 } 1 .. 24),
          admin   => join('', map { sprintf '%02x', int rand 256 } 1 .. 24));

# The shipped file, with the placeholders replaced by the hashes.
my $acl = PitTest::slurp("$top/scripts/redis-acl.conf");
like($acl, qr/#GATEWAY_PASSWORD_SHA256/, 'shipped with placeholders');
$acl =~ s/#GATEWAY_PASSWORD_SHA256/'#' . sha256_hex($pw{gateway})/e;
$acl =~ s/#ADMIN_PASSWORD_SHA256/'#' . sha256_hex($pw{admin})/e;
# the harness's own checks (KEYS, dumps) use a third, unrestricted user that
# exists only in this test
$pw{test} = join '', map { sprintf '%02x', int rand 256 } 1 .. 24;
$acl .= "\nuser pit-test on >$pw{test} ~* &* +\@all\n";
open my $fh, '>', "$dir/pit-acl.conf" or die;
print $fh $acl;
close $fh;

# An unedited copy does not load.
{
    my $port = PitTest::free_port();
    my ($rc, $out, $err) = PitTest::run_cmd(
        ['redis-server', '--port', $port, '--bind', '127.0.0.1', '--save', '',
         '--include', "$top/scripts/redis-acl.conf", '--daemonize', 'no'],
        timeout => 5);
    isnt($rc, 0, 'an unedited ACL file: redis-server refuses to start');
    like($out . $err, qr/pit-gateway|password|hash/i, 'and says why');
}

# A redis-server with the ACL file; redis-cli as a chosen user.
package AclRedis {
    our @ISA = ('PitTest::Redis');
    sub as {
        my ($self, $user, @args) = @_;
        my %auth = $user eq 'none' ? ()
                 : (env => { REDISCLI_AUTH => $pw{$user} });
        my @u = $user eq 'none' ? () : ('--user', "pit-$user");
        my ($rc, $out, $err) = PitTest::run_cmd(
            ['redis-cli', '-p', $self->{port}, @u, '--raw', @args], %auth);
        chomp $out;
        return $out;
    }
    sub cmd { my ($self, @a) = @_; return $self->as('test', @a); }
    sub raw { my ($self, @a) = @_; return $self->as('test', @a); }
    sub url { "redis://pit-admin:$pw{admin}\@127.0.0.1:$_[0]{port}" }
}

my $redis = AclRedis->new(extra => ['--include', "$dir/pit-acl.conf"]);
my $port = $redis->port;

# --- the default user ----------------------------------------------------------

like($redis->as('none', 'PING'), qr/NOAUTH/, 'default user: NOAUTH');
like($redis->as('none', 'AUTH', 'default', 'x'), qr/WRONGPASS|disabled/,
     'default user: cannot log in');

# --- pitctl as pit-admin -------------------------------------------------------

my ($id, $tok) = PitTest::Pitctl::create($redis, account => 'acct1',
                                         scopes => ['contacts.readonly']);
ok($id && $tok, 'pitctl create as pit-admin');
my ($rc, $out, $err) = PitTest::Pitctl::run($redis, 'list');
is($rc, 0, 'pitctl list as pit-admin');
($rc) = PitTest::Pitctl::run($redis, 'show', $id);
is($rc, 0, 'pitctl show as pit-admin');
($rc) = PitTest::Pitctl::run($redis, 'audit');
is($rc, 0, 'pitctl audit as pit-admin');
($rc, $out) = PitTest::Pitctl::run($redis, 'check', $tok);
is($rc, 0, 'pitctl check as pit-admin');
my ($id2, $tok2) = PitTest::Pitctl::create($redis, account => 'acct1');
($rc) = PitTest::Pitctl::run($redis, 'rotate', $id2, '--later');
is($rc, 0, 'pitctl rotate --later as pit-admin');
($rc) = PitTest::Pitctl::run($redis, 'edit', $id2, '--description', 'd');
is($rc, 0, 'pitctl edit as pit-admin');
($rc) = PitTest::Pitctl::run($redis, 'cancel-rotation', $id2);
is($rc, 0, 'pitctl cancel-rotation as pit-admin');
($rc) = PitTest::Pitctl::run($redis, 'delete', $id2);
is($rc, 0, 'pitctl delete as pit-admin');
is(join("\n", PitTest::Pitctl::integrity($redis)), '',
   'the schema is consistent');

# the catalogue, doctor, export and import as pit-admin
($rc, $out, $err) = PitTest::Pitctl::run($redis, 'scopes', 'add', 'orders.read');
is($rc, 0, 'pitctl scopes add as pit-admin (HGETALL, HSET)') or diag $err;
($rc) = PitTest::Pitctl::run($redis, 'scopes', 'remove', 'orders.read');
is($rc, 0, 'pitctl scopes remove as pit-admin');
($rc, $out, $err) = PitTest::Pitctl::run($redis, 'doctor');
unlike($out . $err, qr/NOPERM|refused|cannot list/,
       'pitctl doctor as pit-admin: every check allowed (INFO, ACL USERS)');
like($out, qr/^OK\s+acl\s+the default user refuses/m,
     'doctor: the default user is off');
like($out, qr/^OK\s+acl\s+users pit-gateway and pit-admin exist/m,
     'doctor: both users exist');
($rc, $out, $err) = PitTest::Pitctl::run($redis, 'export');
is($rc, 0, 'pitctl export as pit-admin') or diag $err;
my $bk = "$dir/backup.json";
open my $bfh, '>', $bk or die; print $bfh $out; close $bfh;
($rc, undef, $err) = PitTest::Pitctl::run($redis, 'import', $bk, '--replace');
is($rc, 0, 'pitctl import --replace as pit-admin (HSET of last use)')
    or diag $err;

like($redis->as('admin', 'FLUSHALL'), qr/NOPERM/, 'pit-admin: FLUSHALL NOPERM');
like($redis->as('admin', 'CONFIG', 'GET', 'dir'), qr/NOPERM/,
     'pit-admin: CONFIG NOPERM');
like($redis->as('admin', 'SET', 'other', '1'), qr/NOPERM/,
     'pit-admin: a key outside the prefix NOPERM');
like($redis->as('admin', 'EVAL', 'return 1', '0'), qr/NOPERM/,
     'pit-admin: EVAL NOPERM');

# pitctl with the gateway's credentials changes nothing
my $gw_url = "redis://pit-gateway:$pw{gateway}\@127.0.0.1:$port";
my $before = $redis->as('admin', 'GET', "pit:int:$id");
($rc, $out, $err) = PitTest::Pitctl::run($gw_url, 'create', '--name', 'x',
    '--account', 'acct1', '--scope', 'contacts.readonly');
is($rc, 4, 'pitctl create as pit-gateway: exit 4');
like($err, qr/NOPERM|no permissions/i, 'pitctl says NOPERM');
($rc) = PitTest::Pitctl::run($gw_url, 'delete', $id);
isnt($rc, 0, 'pitctl delete as pit-gateway fails');
is($redis->as('admin', 'GET', "pit:int:$id"), $before,
   'the integration is unchanged');
($rc) = PitTest::Pitctl::run("redis://pit-gateway:wrong\@127.0.0.1:$port",
                             'list');
is($rc, 4, 'a wrong password: exit 4');

# --- the gateway user ------------------------------------------------------------

my $tkey = PitTest::Pitctl::token_key($tok);

# One connection, several commands: returns each reply's first line.
sub session {
    my (@cmds) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp') or die;
    my @replies;
    my $buf = '';
    my $sel = IO::Select->new($s);
    for my $c (['AUTH', 'pit-gateway', $pw{gateway}], @cmds) {
        print $s '*' . @$c . "\r\n"
                 . join('', map { '$' . length($_) . "\r\n$_\r\n" } @$c);
        my $end = time + 2;
        while ($buf !~ /\r\n/ && time < $end) {
            last unless $sel->can_read(0.5);
            sysread $s, $buf, 65536, length $buf;
        }
        my ($line) = $buf =~ /^([^\r]*)\r\n/;
        push @replies, $line // '';
        $buf = '';
        sleep 0.05;
        sysread $s, $buf, 65536 if $sel->can_read(0);
        $buf = '';
    }
    close $s;
    shift @replies;
    return @replies;
}

my %allowed = (
    'GET a token key'              => [['GET', $tkey]],
    'HSET <prefix>used:*'          => [['HSET', "pit:used:$id", 'h', '1']],
    'PING'                         => [['PING']],
    'SELECT 0'                     => [['SELECT', '0']],
    'CLIENT ID'                    => [['CLIENT', 'ID']],
    'CLIENT TRACKING BCAST PREFIX' => [['CLIENT', 'TRACKING', 'on', 'BCAST',
                                       'PREFIX', 'pit:tok:']],
    'SUBSCRIBE __redis__:invalidate' => [['SUBSCRIBE',
                                          '__redis__:invalidate']],
    'PUBLISH its heartbeat'        => [['PUBLISH', 'pit:nginx:beat:1', '1']],
);
for my $name (sort keys %allowed) {
    my ($r) = session(@{ $allowed{$name} });
    unlike($r, qr/^-/, "pit-gateway may: $name ($r)");
}
my ($r) = session(['GET', $tkey]);
like($r, qr/^\$\d+/, 'pit-gateway reads the token record');

# the subscriber's whole set-up on one connection, as the cache does it
my ($cid) = session(['CLIENT', 'ID']);
my @sub = session(['CLIENT', 'ID'],
                  ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'pit:tok:'],
                  ['SUBSCRIBE', '__redis__:invalidate', 'pit:nginx:beat:9']);
like($sub[0], qr/^:\d+$/, 'subscriber set-up: CLIENT ID');
is($sub[1], '+OK', 'subscriber set-up: CLIENT TRACKING');
like($sub[2], qr/^\*3$/, 'subscriber set-up: SUBSCRIBE');

my %denied = (
    'SET a token key'         => ['SET', $tkey, 'x'],
    'HSET a token key'        => ['HSET', $tkey, 'a', 'b'],
    'DEL a token key'         => ['DEL', $tkey],
    'PEXPIRE a token key'     => ['PEXPIRE', $tkey, '1'],
    'SET <prefix>used:*'      => ['SET', "pit:used:$id", 'x'],
    'GET an integration'      => ['GET', "pit:int:$id"],
    'HGET <prefix>used:*'     => ['HGET', "pit:used:$id", 'h'],
    'HSET <prefix>int:*'      => ['HSET', "pit:int:$id", 'a', 'b'],
    'FLUSHALL'                => ['FLUSHALL'],
    'FLUSHDB'                 => ['FLUSHDB'],
    'KEYS'                    => ['KEYS', '*'],
    'SCAN'                    => ['SCAN', '0'],
    'CONFIG SET'              => ['CONFIG', 'SET', 'dir', '/tmp'],
    'EVAL'                    => ['EVAL', "return redis.call('DEL', KEYS[1])",
                                  '1', $tkey],
    'MONITOR'                 => ['MONITOR'],
    'SAVE'                    => ['SAVE'],
    'BGREWRITEAOF'            => ['BGREWRITEAOF'],
    'REPLICAOF'               => ['REPLICAOF', '127.0.0.1', '1'],
    'ACL LIST'                => ['ACL', 'LIST'],
    'CLIENT KILL'             => ['CLIENT', 'KILL', 'TYPE', 'normal'],
    'SHUTDOWN'                => ['SHUTDOWN', 'NOSAVE'],
    'SUBSCRIBE another channel' => ['SUBSCRIBE', 'other'],
    'PUBLISH another channel' => ['PUBLISH', 'other', 'x'],
);
for my $name (sort keys %denied) {
    my ($r) = session($denied{$name});
    like($r, qr/^-NOPERM/, "pit-gateway NOPERM: $name");
}
ok(length $redis->as('admin', 'GET', $tkey), 'the token key is intact');

# --- the module as pit-gateway ---------------------------------------------------

my $t = PitModule->new(redis => $redis, timeout => '100ms 300ms',
                       server => <<"END");
        location /api/ {
            pit_auth on;
            pit_auth_redis 127.0.0.1:$port user=pit-gateway password=$pw{gateway};
            pit_auth_scope contacts.readonly;
            proxy_pass %%UP%%;
        }
        location /w/ {
            pit_auth on;
            pit_auth_redis 127.0.0.1:$port user=pit-gateway password=$pw{gateway};
            pit_auth_scope contacts.write;
            proxy_pass %%UP%%;
        }
        location /wrongpw/ {
            pit_auth on;
            pit_auth_redis 127.0.0.1:$port user=pit-gateway password=wrong;
            proxy_pass %%UP%%;
        }
        location /default/ {
            pit_auth on;
            pit_auth_redis 127.0.0.1:$port;
            proxy_pass %%UP%%;
        }
END
is($t->bearer('/api/x', $tok)->{status}, 200, 'module as pit-gateway: 200');
is($t->bearer('/w/x', $tok)->{status}, 403,
   'module as pit-gateway: missing scope 403');
is($t->bearer('/api/x', 'pit-0123abcd-0000-4000-8000-00000000beef')
       ->{status}, 401, 'module as pit-gateway: unknown 401');
($rc, $out) = PitTest::Pitctl::run($redis, '--json', 'rotate', $id, '--now');
is($rc, 0, 'pitctl rotate --now as pit-admin');
my ($new) = $out =~ /"token"\s*:\s*"([^"]+)"/;
is($t->bearer('/api/x', $tok)->{status}, 401,
   'module as pit-gateway: the old token 401 after rotate --now');
is($t->bearer('/api/x', $new)->{status}, 200,
   'module as pit-gateway: the new token 200');
is($t->bearer('/wrongpw/x', $new)->{status}, 503,
   'module with a wrong password: 503 (fail closed)');
is($t->bearer('/default/x', $new)->{status}, 503,
   'module without credentials (default user off): 503');
like($t->error_log, qr/AUTH failed: WRONGPASS/, 'the failed AUTH is logged');
unlike($t->error_log, qr/\Q$pw{gateway}\E|password=wrong/,
       'no password in error.log');
$t->nginx->stop;

# --- the cache (lookups, last use, invalidation subscriber) as pit-gateway --

my $c = PitModule->new(redis => $redis, workers => 2,
                       timeout => '100ms 300ms',
                       http => '    pit_auth_cache zone=acl:1m;',
                       server => <<"END");
        location /api/ {
            pit_auth on;
            pit_auth_redis 127.0.0.1:$port user=pit-gateway password=$pw{gateway};
            pit_auth_last_used on interval=1s;
            proxy_pass %%UP%%;
        }
        location = /stats {
            pit_auth_stats;
        }
END
sub zone {
    my $r = $c->get('/stats');
    my $d = eval { JSON::PP->new->decode($r->{body}) } or return {};
    return $d->{zones}{acl} // {};
}
require JSON::PP;
my $end = time + 5;
sleep 0.05 until (zone()->{subscriber} // '') eq 'up' || time > $end;
is(zone()->{subscriber}, 'up', 'cache: the subscriber is up as pit-gateway');
my ($cid3, $ctok) = PitTest::Pitctl::create($redis, account => 'acct1');
# the creation's own invalidation first: a reply that races it is not stored
$end = time + 5;
sleep 0.01 until (zone()->{invalidations} // 0) >= 1 || time > $end;
is($c->bearer('/api/x', $ctok)->{status}, 200, 'cache: 200');
is($c->bearer('/api/x', $ctok)->{status}, 200, 'cache: 200 again');
cmp_ok(zone()->{hits}, '>=', 1, 'cache: answered from the zone');
$end = time + 3;
my $used = '';
until (length $used || time > $end) {
    $used = $redis->as('test', 'HGET', "pit:used:$cid3",
                       PitTest::Pitctl::token_hash($ctok));
    sleep 0.05;
}
like($used, qr/^\d{13}$/, 'cache: last use written as pit-gateway');
($rc) = PitTest::Pitctl::run($redis, 'delete', $cid3);
my $t0 = time;
my $st;
while (time - $t0 < 2) {
    $st = $c->bearer('/api/x', $ctok)->{status};
    last if $st != 200;
    sleep 0.005;
}
is($st, 401, 'cache: revoked token refused');
cmp_ok(time - $t0, '<', 0.2, sprintf('cache: invalidation heard as '
       . 'pit-gateway in %.0f ms', (time - $t0) * 1000));
unlike($c->error_log, qr/NOPERM/, 'cache: no NOPERM in error.log');

done_testing();
