#!/usr/bin/perl
# Stale while Redis is down (issue #4): cached tokens still pass for
# "stale" after their ttl, unknown tokens get 503, entries removed by an
# invalidation are never served, the error log says so at most once a
# second, and the zone is flushed when Redis is back.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;
use PitCache;

my $t = PitCache::nginx(zone => 'zone=auth:1m ttl=1s stale=2s',
                        workers => 2, timeout => '100ms 200ms');
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

my ($id, $tok) = $t->token();
my ($rid, $revoked) = $t->token();
my $fetched = time;
is($t->bearer('/api/x', $tok)->{status}, 200, 'token cached');
is($t->bearer('/api/x', $revoked)->{status}, 200, 'second token cached');

# revoked while Redis is up: the invalidation removes it for good
PitTest::Pitctl::run($redis, 'delete', $rid);
ok(defined PitCache::time_to_refusal($t, $revoked, time, 1),
   'deleted token refused');

$redis->stop;

# within ttl + stale of the fetch, the cached token passes
my ($ok, $n, $late) = (0, 0, 0);
my $until = $fetched + 1 + 2;
while (time < $until - 0.15) {
    my $r = $t->bearer('/api/x', $tok);
    $n++;
    $ok++ if $r->{status} == 200
             && (PitTest::HTTP::header($r, 'X-Status') // '') eq 'ok';
    sleep 0.02;
}
is($ok, $n, "Redis down: $n requests within ttl + stale, all 200 ok");

my $r = $t->bearer('/api/x', $revoked);
is($r->{status}, 503, 'Redis down: the revoked token is not served stale');
$r = $t->bearer('/api/x', PitCache::random_token());
is($r->{status}, 503, 'Redis down: unknown token 503');
is(PitTest::HTTP::header($r, 'Retry-After'), '1', 'Retry-After: 1');

# past ttl + stale: 503
sleep $until + 0.3 - time if $until + 0.3 > time;
$r = $t->bearer('/api/x', $tok);
is($r->{status}, 503, 'Redis down past ttl + stale: 503');

my $s = PitCache::stats($t);
ok($s->{stale} > 0 && $s->{stale} <= $ok, "stale answers counted: $s->{stale}");
ok($s->{redis_errors} >= $s->{stale}, "Redis errors counted: "
   . "$s->{redis_errors}");
my @said = grep { /serving cached token records/ } split /\n/, $t->error_log;
ok(@said >= 1 && @said <= 4, scalar(@said) . ' stale log lines in ~3 s '
   . '(at most one a second)');
unlike($t->error_log, qr/\Q$tok\E|\Q$revoked\E/, 'no token in the log');

# Redis back (empty): the subscriber resubscribes and flushes
my $f0 = $s->{flushes};
$redis->start;
ok(wait_for(sub { PitCache::stats($t)->{flushes} > $f0 && up() }, 5),
   'Redis back: subscriber up, zone flushed');
is(PitCache::stats($t)->{entries}, 0, 'zone empty');
is($t->bearer('/api/x', $tok)->{status}, 401, 'token unknown to the new '
   . 'Redis: 401');

done_testing();
