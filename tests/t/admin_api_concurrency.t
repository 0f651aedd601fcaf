#!/usr/bin/perl
# The admin API under contention and failure: two admins editing (with the
# same If-Match) or rotating one integration at once -> one wins, the
# other gets 409, nothing is lost; Redis down -> 503 and nothing changed,
# and the server reconnects; SIGTERM lets a request in flight finish and
# exits 0; a unix socket listener is trusted.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);
use JSON::PP ();
use Time::HiRes qw(sleep time);
use PitTest;
use PitApi;

my $J = JSON::PP->new->utf8->canonical;
my $t = PitApi->new(users => { alice => 'a-pw', root => 'r-pw' },
                    serve_args => ['--issue-rate', '0']);
my $r = $t->redis;
$t->pitctl(qw(admin add alice --account acct1));
$t->pitctl(qw(admin add root --all-accounts));

my $p = '/api/v1/accounts/acct1/integrations';
my $res = $t->call(POST => $p, user => 'alice',
                   json => { name => 'shared', scopes => ['contacts.readonly'] });
my $id = $res->{json}{id};

# Sends both requests before reading either answer.
sub at_once {
    my (@reqs) = @_;
    my @socks;
    for my $q (@reqs) {
        my ($user, $pw, $method, $path, $body, @h) = @$q;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $t->front->port) or die;
        my $req = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
            . "Connection: close\r\nAuthorization: Basic "
            . encode_base64("$user:$pw", '') . "\r\n"
            . "Content-Type: application/json\r\n"
            . "Content-Length: " . length($body) . "\r\n";
        while (my ($k, $v) = splice @h, 0, 2) { $req .= "$k: $v\r\n"; }
        push @socks, [$s, "$req\r\n$body"];
    }
    $_->[0]->print($_->[1]) for @socks;
    my @res;
    for (@socks) {
        my $raw = '';
        while (sysread $_->[0], my $buf, 65536) { $raw .= $buf; }
        my $res = PitTest::HTTP::parse_response($raw);
        $res->{json} = eval { $J->decode($res->{body}) };
        push @res, $res;
    }
    return @res;
}

for my $round (1 .. 10) {
    my $get = $t->call(GET => "$p/$id", user => 'alice');
    my $etag = PitTest::HTTP::header($get, 'ETag');
    my @res = at_once(
        ['alice', 'a-pw', 'PATCH', "$p/$id", qq({"description":"alice $round"}),
         'If-Match' => $etag],
        ['root', 'r-pw', 'PATCH', "$p/$id", qq({"description":"root $round"}),
         'If-Match' => $etag]);
    my @st = sort map { $_->{status} } @res;
    is "@st", '200 409', "edit round $round: one 200, one 409";
    my ($won) = grep { $_->{status} == 200 } @res;
    my ($lost) = grep { $_->{status} == 409 } @res;
    is $lost->{json}{code}, 'stale', '  409: stale';
    my $now = $t->call(GET => "$p/$id", user => 'alice');
    is $now->{json}{description}, $won->{json}{description},
       '  the winner\'s change is what is stored';
}

my %tokens;
for my $round (1 .. 5) {
    my @res = at_once(
        ['alice', 'a-pw', 'POST', "$p/$id/rotate", '{"mode":"later"}'],
        ['root', 'r-pw', 'POST', "$p/$id/rotate", '{"mode":"later"}']);
    my @st = sort map { $_->{status} } @res;
    is "@st", '200 409', "rotate round $round: one 200, one 409";
    my ($won) = grep { $_->{status} == 200 } @res;
    my ($lost) = grep { $_->{status} == 409 } @res;
    is $lost->{json}{code}, 'rotation_state', '  409: rotation_state';
    is $t->front->bearer('/edge/x', $won->{json}{token})->{status}, 200,
       '  the winner\'s token works';
    $res = $t->call(POST => "$p/$id/cancel-rotation", user => 'alice',
                    json => {});
    is $res->{status}, 200, '  cancel';
}
is_deeply [ PitTest::Pitctl::integrity($r) ], [], 'Redis consistent';

# Redis down (stopped, so nothing it receives is applied later)
my $before = $r->dump_all;
kill 'STOP', $r->pid;
my $t0 = time;
$res = $t->call(POST => $p, user => 'alice', timeout => 20,
                json => { name => 'while down', scopes => ['contacts.readonly'] });
is $res->{status}, 503, 'Redis not answering: 503';
like PitTest::HTTP::header($res, 'Retry-After') // '', qr/^\d+$/,
     '503: Retry-After';
$res = $t->call(GET => "$p/$id", user => 'alice', timeout => 20);
is $res->{status}, 503, 'a read too';
kill 'CONT', $r->pid;
sleep 0.2;
is $r->dump_all, $before, 'nothing changed';
$res = $t->call(GET => "$p/$id", user => 'alice');
is $res->{status}, 200, 'Redis back: the server reconnects';

# SIGTERM with a request in flight (held up by a stopped Redis)
kill 'STOP', $r->pid;
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                              PeerPort => $t->front->port) or die;
$s->print("GET $p/$id HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
          . "Authorization: Basic " . encode_base64('alice:a-pw', '')
          . "\r\n\r\n");
sleep 0.3;
kill 'TERM', $t->serve_pid;
sleep 0.3;
kill 'CONT', $r->pid;
my $raw = '';
while (sysread $s, my $buf, 65536) { $raw .= $buf; }
like $raw, qr{^HTTP/1\.1 200 }, 'the request in flight finished';
is $t->stop_serve, 0, 'pitctl serve exited 0 after SIGTERM';
like $t->serve_err, qr/SIGTERM: stopping after the requests in flight/,
     'it said so';
ok !IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                          PeerPort => $t->serve_port),
   'and no longer listens';

# a unix socket listener: the socket is the trust
my $u = PitApi->new(users => { alice => 'a-pw' }, unix => 1);
$u->pitctl(qw(admin add alice --account acct1));
$res = $u->call(GET => '/api/v1/me', user => 'alice');
is $res->{status}, 200, 'through nginx to a unix socket';
$res = $u->call(GET => '/api/v1/me', direct => 1,
                headers => ['X-Remote-User' => 'alice']);
is $res->{status}, 200, 'a unix socket peer is trusted';
like $u->access_log, qr{ unix alice "GET /api/v1/me" 200 }, 'logged as unix';

# --user-header names the identity header; --listen defaults to
# 127.0.0.1:8089 (not asserted on the port, which may be taken)
my $h = PitApi->new(users => { alice => 'a-pw' }, unix => 1, no_nginx => 1,
                    serve_args => ['--user-header', 'X-Admin-User']);
$h->pitctl(qw(admin add alice --account acct1));
$res = $h->call(GET => '/api/v1/me', direct => 1,
                headers => ['X-Admin-User' => 'alice']);
is $res->{status}, 200, '--user-header X-Admin-User: believed';
$res = $h->call(GET => '/api/v1/me', direct => 1,
                headers => ['X-Remote-User' => 'alice']);
is $res->{status}, 401, '  and X-Remote-User no longer';
SKIP: {
    skip 'port 8089 is taken', 2
        if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => 8089);
    my $pid = fork // die;
    if ($pid == 0) {
        open STDOUT, '>', $h->dir . '/default.err';
        open STDERR, '>&', \*STDOUT;
        { exec PitTest::Pitctl::bin(), 'serve', '--redis', $h->redis->url; }
        POSIX::_exit(127);
    }
    PitTest::wait_port(8089, 5);
    my $hz = PitTest::HTTP::request(8089, 'GET /healthz');
    is $hz->{status}, 200, 'no --listen: 127.0.0.1:8089';
    kill 'TERM', $pid;
    waitpid $pid, 0;
    like PitTest::slurp($h->dir . '/default.err'),
         qr/listening on 127\.0\.0\.1:8089/, '  it said so';
}

is_deeply [ $t->schema_errors, $u->schema_errors, $h->schema_errors ], [],
          'every answer matches its schema';
done_testing;
