#!/usr/bin/perl
# Fault injection with the shared-memory cache (pit_auth_cache), under
# load: the invalidation subscriber's connection killed again and again
# while a token is revoked; then Redis SIGKILLed for 5 s and restarted.
# Checked: no crash, no [alert]; a revoked token is never allowed past the
# documented window (1 s after its fetch while the subscriber is down);
# unknown tokens get 401 from their negative entry or 503 while Redis is
# away (cached valid ones may be served stale, as documented); the subscriber is back within 2 s; the
# workers do not spin while Redis is away.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;
use PitCache;
use FakeRedis;

my $t = PitCache::nginx(workers => 2, timeout => '100ms 300ms',
    redis => PitTest::Redis->new(extra => [
        '--appendonly', 'yes', '--appendfsync', 'always']));
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
my %kind = (
    valid     => $tok,
    revoked   => $revoked,
    unknown   => 'pit-0123abcd-0000-4000-8000-00000000beef',
    malformed => 'pit-0123abcd-0000-4000-8000-00000000beeZ',
);
is($t->bearer('/api/x', $kind{$_})->{status},
   $_ eq 'malformed' || $_ eq 'unknown' ? 401 : 200, "before: $_")
    for sort keys %kind;

# --- the subscriber killed 10 times, a revocation in the middle ----------

my $load = FakeRedis::Load->start($t->port, \%kind, clients => 4);
my ($revoked_at, @kills);
for my $i (1 .. 10) {
    sleep 0.2;
    push @kills, time;
    $redis->cmd('CLIENT', 'KILL', 'TYPE', 'pubsub');
    if ($i == 5) {
        my ($rc) = PitTest::Pitctl::run($redis, 'delete', $rid);
        is($rc, 0, 'revoked (pitctl delete) while the subscriber is killed');
        $revoked_at = time;
    }
}
my $last_kill = time;
my $back = wait_for(\&up, 5) ? time - $last_kill : undef;
sleep 0.5;
my @rows = $load->stop;
ok(defined $back && $back < 2,
   sprintf('subscriber up %.0f ms after the last kill', ($back // 99) * 1000));

my @late = grep { $_->[2] eq 'revoked' && $_->[3] == 200
                  && $_->[0] > $revoked_at + 1.0 } @rows;
is(scalar @late, 0, 'the revoked token: no 200 later than 1 s after the '
   . 'revocation (' . scalar(@rows) . ' requests)');
my ($last_ok) = reverse grep { $_->[2] eq 'revoked' && $_->[3] == 200 } @rows;
diag(sprintf('revoked token: last 200 %.0f ms after pitctl returned',
             $last_ok ? ($last_ok->[1] - $revoked_at) * 1000 : -1));
is(scalar(grep { $_->[2] =~ /unknown|malformed/ && $_->[3] == 200 } @rows), 0,
   'unknown and malformed tokens: never 200');
is(scalar(grep { $_->[2] eq 'valid' && $_->[3] != 200 } @rows), 0,
   'the valid token: always 200 (Redis was up)');

# --- Redis SIGKILLed for 5 s, restarted ----------------------------------

is($t->bearer('/api/x', $tok)->{status}, 200, 'valid token cached');
$load = FakeRedis::Load->start($t->port, \%kind, clients => 2, pace => 0.04);
sleep 0.3;
$redis->stop('KILL');
my $killed = time;
my $cpu0 = 0;
$cpu0 += FakeRedis::cpu_seconds($_) for $t->nginx->worker_pids;
sleep 5;
my $cpu = -$cpu0;
$cpu += FakeRedis::cpu_seconds($_) for $t->nginx->worker_pids;
my $outage = time - $killed;
$redis->start;
my $restarted = time;
$back = wait_for(\&up, 5) ? time - $restarted : undef;
sleep 0.5;
@rows = $load->stop;
my @during = grep { $_->[0] > $killed && $_->[1] < $restarted } @rows;
# an unknown token's negative entry answers 401 until negative_ttl (5 s),
# then 503: never stale, never 200
is(scalar(grep { $_->[2] eq 'unknown' && $_->[3] !~ /^(401|503)$/ } @during),
   0, 'Redis away: unknown token 401 (negative entry) or 503');
is(scalar(grep { $_->[2] =~ /revoked|unknown|malformed/ && $_->[3] == 200 }
           @rows), 0, 'Redis away: no allow that should be a deny');
is(scalar(grep { $_->[2] eq 'valid' && $_->[3] !~ /^(200|503)$/ } @rows), 0,
   'Redis away: the valid token 200 (stale) or 503');
cmp_ok($cpu / $outage, '<', 0.05,
       sprintf('workers CPU during a %.1f s outage: %.1f%%', $outage,
               100 * $cpu / $outage));
diag(sprintf('cache on, Redis SIGKILLed: workers CPU %.2f%% over %.1f s '
             . '(%d requests)', 100 * $cpu / $outage, $outage,
             scalar @during));
ok(defined $back && $back < 2,
   sprintf('subscriber up %.0f ms after the restart', ($back // 99) * 1000));
is($t->bearer('/api/x', $tok)->{status}, 200, 'after the restart: 200');
is($t->bearer('/api/x', $revoked)->{status}, 401,
   'after the restart: revoked 401');

unlike($t->error_log, qr/exited on signal/, 'no worker crashed');

done_testing();
