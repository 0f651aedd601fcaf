#!/usr/bin/perl
# pitctl and its Redis: URL forms (TCP, /db, unix socket, ACL user),
# PIT_REDIS_URL, --prefix, bad URLs and durations, and Redis unreachable,
# killed between commands, or not answering (exit 4, readable message).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use IO::Socket::INET;
use Time::HiRes qw(sleep time);
use File::Temp qw(tempdir);
use PitTest;

plan skip_all => 'build/pitctl not built (make build/pitctl)'
    unless -x PitTest::Pitctl::bin();

my $dir = tempdir(CLEANUP => 1);
my $sock = "$dir/redis.sock";
my $r = PitTest::Redis->new(extra => ['--unixsocket', $sock,
                                      '--unixsocketperm', '700']);
my $port = $r->port;
my @create = ('create', '--scope', 'contacts.readonly', '--account', 'acct1');

sub run { PitTest::Pitctl::run(@_) }

sub fails {
    my ($want, $what, $url, @args) = @_;
    my ($rc, $out, $err) = run($url, @args);
    ok($rc == $want && $err =~ /^pitctl: \S/ && $out eq '',
       "$what: exit $want, message on stderr")
        or diag "rc=$rc\nstdout=$out\nstderr=$err";
    return $err;
}

sub ids_in {
    my ($db, $prefix) = @_;
    return $r->raw_list('-n', $db, 'KEYS', ($prefix // 'pit:') . 'int:*');
}

###########################################################################
# --prefix

my ($rc, $out, $err) = run($r, '--prefix', 'other:', '--json', @create,
                           '--name', 'prefixed');
is $rc, 0, 'create --prefix other:' or diag $err;
my $d = eval { decode_json($out) } || {};
my $iid = $d->{id} // '';
is $r->raw('EXISTS', "other:int:$iid"), 1, 'integration under other:';
is $r->raw('EXISTS', PitTest::Pitctl::token_key($d->{token} // '', 'other:')),
    1, 'token key under other:';
is $r->raw('EXISTS', 'other:name:acct1:prefixed'), 1, 'name key under other:';
is scalar($r->keys_matching('pit:*')), 0, 'nothing under pit:';
ok scalar($r->keys_matching('other:audit')), 'audit under other:';
($rc, $out) = run($r, '--json', 'list');
is $out =~ s/\s//gr, '[]', 'list without --prefix sees nothing';
($rc, $out) = run($r, '--prefix', 'other:', 'list');
like $out, qr/prefixed/, 'list --prefix other: sees it';
($rc, $out) = run($r, '--prefix', 'other:', 'rotate', $iid, '--later');
is $rc, 0, 'rotate --prefix other:';
is scalar($r->keys_matching('other:tok:*')), 2, 'two token keys under other:';
is_deeply [ PitTest::Pitctl::integrity($r, 'other:') ], [],
    'integrity under other:';
fails 2, 'show without the prefix', $r, 'show', $iid;
fails 1, 'prefix with a blank', $r, '--prefix', 'a b:', 'list';
fails 1, 'empty prefix', $r, '--prefix', '', 'list';
fails 1, '65-byte prefix', $r, '--prefix', 'p' x 65, 'list';
($rc) = run($r, '--prefix', 'other:', 'delete', $iid);
is $rc, 0, 'delete --prefix other:';
is join(',', sort $r->keys_matching('other:*')), 'other:audit,other:meta',
    'only the audit and the store mark left under other:';

###########################################################################
# URL forms

($rc, $out, $err) = run(undef, '--json', @create, '--name', 'from-env',
                        { env => { PIT_REDIS_URL => $r->url } });
is $rc, 0, 'PIT_REDIS_URL is the default' or diag $err;
is scalar(ids_in(0)), 1, '... the integration is in db 0';

my $dead = PitTest::free_port();

SKIP: {
    skip 'something listens on 127.0.0.1:6379', 2
        if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => 6379,
                                 Proto => 'tcp');
    local %ENV = %ENV;
    delete $ENV{PIT_REDIS_URL};
    ($rc, $out, $err) = run(undef, 'list');
    is $rc, 4, 'no --redis, no PIT_REDIS_URL: tries 127.0.0.1:6379';
    like $err, qr/^pitctl: .*(6379|redis|connect)/i, '... and says so';
}
($rc, $out, $err) = run($r, 'list',
    { env => { PIT_REDIS_URL => "redis://127.0.0.1:$dead" } });
is $rc, 0, '--redis wins over PIT_REDIS_URL' or diag $err;

($rc, $out, $err) = run("redis://127.0.0.1:$port/3", '--json', @create,
                        '--name', 'in-db3');
is $rc, 0, 'redis://host:port/3' or diag $err;
is scalar(ids_in(3)), 1, '... wrote into db 3';
is scalar(ids_in(0)), 1, '... and not into db 0';
($rc, $out) = run("redis://127.0.0.1:$port/3", 'list');
like $out, qr/in-db3/, 'list in db 3';
unlike $out, qr/from-env/, '... only db 3';

($rc, $out, $err) = run("unix://$sock?db=5", @create, '--name', 'via-unix');
is $rc, 0, 'unix:///path?db=5' or diag $err;
is scalar(ids_in(5)), 1, '... wrote into db 5';
($rc, $out, $err) = run("unix://$sock", 'list');
is $rc, 0, 'unix:///path (db 0)' or diag $err;
like $out, qr/from-env/, '... sees db 0';

$r->cmd('ACL', 'SETUSER', 'alice', 'on', '>s3cr3t-pw', '~*', '&*', '+@all');
($rc, $out, $err) = run("redis://alice:s3cr3t-pw\@127.0.0.1:$port/0",
                        'list');
is $rc, 0, 'redis://user:password@host:port/db' or diag $err;
like $out, qr/from-env/, '... authenticated';
$err = fails 4, 'wrong password', "redis://alice:wrong-pw\@127.0.0.1:$port",
    'list';
unlike $err, qr/wrong-pw/, 'the password is not echoed';
$r->cmd('ACL', 'SETUSER', 'bob', 'on', '>bobpw', '~nothing:*', '+@all');
fails 4, 'a user without access to the keys',
    "redis://bob:bobpw\@127.0.0.1:$port", @create, '--name', 'denied';

for my $bad ('http://127.0.0.1:6379', "redis://127.0.0.1:99999",
             'redis://127.0.0.1:port', "redis://127.0.0.1:$port/x",
             'redis://', 'unix://', 'garbage') {
    fails 1, "bad URL $bad", $bad, 'list';
}
fails 1, 'bad URL in PIT_REDIS_URL', undef, 'list',
    { env => { PIT_REDIS_URL => 'ftp://x' } };

my ($id) = PitTest::Pitctl::create($r, name => 'durations');
for my $bad ('7x', '0d', '-1d', 'd', '1.5h', '7 d', '') {
    fails 1, "bad duration '$bad'", $r, 'rotate', $id, '--later',
        '--overlap', $bad;
}
fails 1, 'bad --limit', $r, 'audit', '--limit', 'ten';
for my $good ('7d', '36h', '90m', '45s') {
    my ($rc2, $o2, $e2) = run($r, 'rotate', $id, '--later', '--overlap',
                              $good);
    is $rc2, 0, "duration $good" or diag $e2;
    run($r, 'cancel-rotation', $id);
}

###########################################################################
# Redis unreachable

my $e = fails 4, 'nobody listens on the port', "redis://127.0.0.1:$dead",
    'list';
like $e, qr/redis|connect|refused/i, '... the message says what failed';
fails 4, 'create, nobody listens', "redis://127.0.0.1:$dead", @create,
    '--name', 'x';
fails 4, 'unix socket that does not exist', "unix://$dir/nope.sock", 'list';

# killed between commands
my $r2 = PitTest::Redis->new;
my ($id2) = PitTest::Pitctl::create($r2, name => 'doomed');
$r2->stop('KILL');
fails 4, 'list after Redis died', $r2, 'list';
fails 4, 'show after Redis died', $r2, 'show', $id2;
fails 4, 'rotate after Redis died', $r2, 'rotate', $id2, '--later';
fails 4, 'create after Redis died', $r2, @create, '--name', 'x';
fails 4, 'delete after Redis died', $r2, 'delete', $id2;
fails 4, 'check after Redis died', $r2, 'check',
    'pit-00000000-0000-4000-8000-000000000000';
$r2->start;
fails 2, 'after a restart without persistence the data is gone', $r2,
    'show', $id2;

# Redis accepts connections but never answers: pitctl gives up
my $r3 = PitTest::Redis->new;
kill 'STOP', $r3->pid;
my $t0 = time;
($rc, $out, $err) = PitTest::run_cmd([PitTest::Pitctl::bin(), '--redis',
                                      $r3->url, 'list'], timeout => 10);
my $took = time - $t0;
kill 'CONT', $r3->pid;
is $rc, 4, 'Redis not answering: exit 4 (no hang)'
    or diag "rc=$rc after ${took}s: $err";
like $err, qr/^pitctl: \S/, '... with a message';
ok $took < 10, sprintf('... within 10 s (%.1f s)', $took);

done_testing;
