#!/usr/bin/perl
# The invalidation subscriber (issue #4): killed by Redis, it reconnects
# and flushes the zone; while it cannot subscribe, no entry is honoured
# more than 1 s after its fetch; a crashed worker 0 is replaced and the
# new one takes over.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;
use PitCache;

my $t = PitCache::nginx(workers => 2);
my $redis = $t->redis;

sub wait_for {
    my ($what, $secs) = @_;
    my $end = time + ($secs // 5);
    until ($what->()) {
        return 0 if time > $end;
        sleep 0.01;
    }
    return 1;
}

sub up { (PitCache::stats($t)->{subscriber} // '') eq 'up' }

ok(wait_for(\&up), 'subscriber up');
is(scalar(grep { /flags=P/ } $redis->raw_list('CLIENT', 'LIST')), 1,
   'one subscriber connection for two workers');

my ($id, $tok) = $t->token();
is($t->bearer('/api/x', $tok)->{status}, 200, 'token cached');
is(PitCache::stats($t)->{entries}, 1, 'one entry');

# CLIENT KILL TYPE pubsub: reconnect, then flush
my $f0 = PitCache::stats($t)->{flushes};
$redis->cmd('CLIENT', 'KILL', 'TYPE', 'pubsub');
ok(wait_for(sub { PitCache::stats($t)->{flushes} > $f0 && up() }),
   'subscriber back after CLIENT KILL');
my $s = PitCache::stats($t);
is($s->{flushes}, $f0 + 1, 'zone flushed once after reconnecting');
is($s->{entries}, 0, 'zone empty after reconnecting');
like($t->error_log, qr/invalidation subscriber for "auth" lost/,
     'the loss is logged');

# a subscriber that cannot come back: Redis refuses it CLIENT
is($t->bearer('/api/x', $tok)->{status}, 200, 'token cached again');
my ($rc, $out) = PitTest::run_cmd(['redis-cli', '-p', $redis->port],
    stdin => "CLIENT KILL TYPE pubsub\nACL SETUSER default -client\n");
ok(wait_for(sub { !up() }), 'subscriber down');
sleep 1.1;

# the entry is older than 1 s: it is fetched again, then trusted for 1 s
my $get0 = PitCache::calls($redis, 'get');
my $fetched = time;
is($t->bearer('/api/x', $tok)->{status}, 200, 'token fetched again');
is(PitCache::calls($redis, 'get') - $get0, 1, 'one GET: the old entry was '
   . 'not trusted');
is($t->bearer('/api/x', $tok)->{status}, 200, 'then cached');
is(PitCache::calls($redis, 'get') - $get0, 1, 'no GET within the second');

my ($rrc, $rdata) = PitTest::Pitctl::json($redis, 'rotate', $id, '--now');
is($rrc, 0, 'rotate --now while nobody listens');
my $new = $rdata->{token};
my ($lat, $sent) = PitCache::time_to_refusal($t, $tok, $fetched, 3);
ok(defined $sent && $sent <= 1.1, 'old token refused '
   . PitCache::ms($lat) . ' after its fetch (bound: 1 s)');
diag('subscriber down: old token refused ' . PitCache::ms($lat)
     . ' after its fetch');

# allowed again: it comes back and flushes
$f0 = PitCache::stats($t)->{flushes};
$redis->cmd('ACL', 'SETUSER', 'default', '+client');
ok(wait_for(sub { PitCache::stats($t)->{flushes} > $f0 && up() }, 5),
   'subscriber back once allowed, zone flushed');
like($t->error_log, qr/CLIENT ID failed/, 'the refusals were logged');
is($t->bearer('/api/x', $new)->{status}, 200, 'new token 200');
is($t->bearer('/api/x', $tok)->{status}, 401, 'old token 401');

# worker 0 crashes: the new worker 0 takes over and flushes
my $pid = PitCache::stats($t)->{subscriber_pid};
ok($pid, "worker 0 is $pid");
$f0 = PitCache::stats($t)->{flushes};
$t->nginx->allow_log(qr/\[alert\].*worker process $pid exited on signal 9/,
                     'the worker this test SIGKILLs');
kill 'KILL', $pid;
ok(wait_for(sub {
       my $s = PitCache::stats($t);
       ($s->{subscriber_pid} // $pid) != $pid && $s->{flushes} > $f0 && up()
   }), 'a new worker 0 subscribed and flushed the zone');
is(scalar(grep { /flags=P/ } $redis->raw_list('CLIENT', 'LIST')), 1,
   'still one subscriber connection');
my ($id2, $tok2) = $t->token();
is($t->bearer('/api/x', $tok2)->{status}, 200, 'new token 200');
PitTest::Pitctl::run($redis, 'delete', $id2);
my (undef, $sent2) = PitCache::time_to_refusal($t, $tok2, time, 1);
ok(defined $sent2 && $sent2 < 0.1, 'revocation works with the new worker 0');

is(scalar(grep { /worker process $pid exited on signal 9/ } $t->bad_log_lines),
   1, 'nginx logged the killed worker');
done_testing();
