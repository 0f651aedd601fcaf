#!/usr/bin/perl
# Stale answers and lost invalidations (security finding 5): an entry may
# be served stale only if the invalidation subscriber was up from the
# entry's fetch until Redis became unreachable.
#
# 1. The review's sequence: a token cached, the subscriber killed (and kept
#    from coming back), the token deleted, Redis SIGSTOPped: the deleted
#    token must never get 200 (the unfixed module served it for ttl +
#    stale).
# 2. The subscriber killed and kept away, no change at all, then Redis
#    stopped: entries fetched before the drop and entries fetched while it
#    was down are not served stale either (503), by design: nothing can
#    tell a lost invalidation from no change.
# 3. Redis SIGSTOPped with the subscriber up: the outage itself takes the
#    subscriber down (heartbeat lost after 3 s); the cached token is still
#    served stale all along, a token deleted before the outage is not; also
#    with no request at all until the subscriber has dropped.
# 4. Redis SIGKILLed: stale answers from the first request on.
#
# The subscriber is kept from coming back by an ACL that refuses CLIENT ID
# to the default user (nginx's and pitctl's): it reconnects within 50 ms,
# sooner than pitctl and a signal can follow, and a reconnected subscriber
# flushes the zone, which would hide the fault.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;
use PitCache;

# ttl short, so that the stale path is what answers; stale long, so that
# every poll below stays inside ttl + stale
my $ZONE = 'zone=auth:1m ttl=1s stale=30s';

sub wait_for {
    my ($what, $secs) = @_;
    my $end = time + ($secs // 5);
    until ($what->()) {
        return 0 if time > $end;
        sleep 0.01;
    }
    return 1;
}

sub setup {
    my $t = PitCache::nginx(zone => $ZONE, workers => 2,
                            timeout => '100ms 300ms');
    ok(wait_for(sub { sub_state($t) eq 'up' }), 'subscriber up');
    return ($t, $t->redis);
}

sub sub_state { PitCache::stats($_[0])->{subscriber} // '' }

# Requests each token every 20 ms for secs; returns { token => [statuses] }.
sub poll {
    my ($t, $secs, @tok) = @_;
    my %st = map { $_ => [] } @tok;
    my $end = time + $secs;
    while (time < $end) {
        push @{ $st{$_} }, $t->bearer('/api/x', $_)->{status} for @tok;
        sleep 0.02;
    }
    return \%st;
}

sub count { my ($want, $l) = @_; scalar grep { $_ == $want } @$l }

sub summary {
    my ($l) = @_;
    my %n;
    $n{$_}++ for @$l;
    return join ' ', map { "$_ x$n{$_}" } sort keys %n;
}

sub block_subscriber {
    my ($redis) = @_;
    is($redis->cmd('ACL', 'SETUSER', 'default', '-client|id'), 'OK',
       'ACL: no CLIENT ID, the subscriber cannot come back');
}

sub clean_log {
    my ($t, $what) = @_;
    is(join("\n", $t->bad_log_lines), '', "$what: no alert, crit or "
       . 'sanitizer line');
    unlike($t->error_log, qr/exited on signal/, "$what: no worker crashed");
}

# --- 1. the review's sequence --------------------------------------------

{
    my ($t, $redis) = setup();
    my ($id, $tok) = $t->token();
    is($t->bearer('/api/x', $tok)->{status}, 200, '1: token cached');

    # past the 1 s an entry is trusted without a subscriber: what answers
    # below is the stale path, not that window
    sleep 1.1;

    block_subscriber($redis);
    my $t0 = time;
    like(scalar $redis->cmd('CLIENT', 'KILL', 'TYPE', 'pubsub'), qr/\b1$/,
       '1: subscriber killed');
    my ($rc) = PitTest::Pitctl::run($redis, 'delete', $id);
    is($rc, 0, '1: pitctl delete');
    kill 'STOP', $redis->pid;
    my $stopped = time;
    diag(sprintf('1: kill, delete, SIGSTOP within %.0f ms',
                 ($stopped - $t0) * 1000));

    my $st = poll($t, 3.5, $tok)->{$tok};
    is(count(200, $st), 0, '1: the deleted token never 200 over 3.5 s ('
       . summary($st) . ')');
    is(count(503, $st), scalar @$st, '1: 503 throughout');
    isnt(sub_state($t), 'up', '1: the subscriber never came back');
    cmp_ok(PitCache::stats($t)->{stale_refused} // 0, '>', 0,
           '1: refusals of a stale answer counted');
    like($t->error_log, qr/invalidations may have been lost/,
         '1: the log says why stale answers stop');

    $redis->stop;
    clean_log($t, '1');
}

# --- 2. subscriber lost, no change, then Redis down ------------------------

{
    my ($t, $redis) = setup();
    my ($id, $before) = $t->token();
    my ($id2, $during) = $t->token();
    is($t->bearer('/api/x', $before)->{status}, 200,
       '2: token cached with the subscriber up');

    block_subscriber($redis);
    $redis->cmd('CLIENT', 'KILL', 'TYPE', 'pubsub');
    ok(wait_for(sub { sub_state($t) eq 'down' }), '2: subscriber down');
    sleep 0.3;
    is($t->bearer('/api/x', $during)->{status}, 200,
       '2: token cached with the subscriber down');
    sleep 1.1;

    kill 'STOP', $redis->pid;
    my $st = poll($t, 2, $before, $during);
    is(count(503, $st->{$before}), scalar @{ $st->{$before} },
       '2: fetched before the drop: 503, not stale ('
       . summary($st->{$before}) . ')');
    is(count(503, $st->{$during}), scalar @{ $st->{$during} },
       '2: fetched while the subscriber was down: 503 ('
       . summary($st->{$during}) . ')');
    my $s = PitCache::stats($t);
    ok($s->{entries} >= 2 && $s->{stale_refused} > 0,
       "2: the entries are there, refused ($s->{stale_refused} times)");

    $redis->stop;
    clean_log($t, '2');
}

# --- 3. Redis SIGSTOPped with the subscriber up ----------------------------

{
    my ($t, $redis) = setup();
    my ($id, $tok) = $t->token();
    my ($rid, $revoked) = $t->token();
    is($t->bearer('/api/x', $tok)->{status}, 200, '3: token cached');
    is($t->bearer('/api/x', $revoked)->{status}, 200,
       '3: second token cached');
    PitTest::Pitctl::run($redis, 'delete', $rid);
    ok(defined PitCache::time_to_refusal($t, $revoked, time, 1),
       '3: deleted with the subscriber up: refused');

    kill 'STOP', $redis->pid;
    my $stopped = time;
    # the subscriber drops by itself 3 s into the outage (no heartbeat)
    my $st = poll($t, 5, $tok, $revoked);
    is(count(200, $st->{$tok}), scalar @{ $st->{$tok} },
       '3: Redis stopped: the cached token 200 (stale) for 5 s ('
       . summary($st->{$tok}) . ')');
    is(count(200, $st->{$revoked}), 0,
       '3: the deleted token never 200 (' . summary($st->{$revoked}) . ')');
    isnt(sub_state($t), 'up', '3: the outage took the subscriber down');
    like($t->error_log, qr/invalidation subscriber for "auth" lost/,
         '3: and the log says so');

    $redis->stop;
    clean_log($t, '3');
}

{
    # the same with no request until the subscriber has dropped: its drop
    # is not explained by failed lookups, Redis is asked (PING), never
    # answers, and the stale answers are allowed again
    my ($t, $redis) = setup();
    my ($id, $tok) = $t->token();
    is($t->bearer('/api/x', $tok)->{status}, 200, '3b: token cached');

    kill 'STOP', $redis->pid;
    my $stopped = time;
    ok(wait_for(sub { $t->error_log =~ /subscriber for "auth" lost/ }, 6),
       sprintf('3b: quiet outage: the subscriber drops (after %.1f s)',
               time - $stopped));
    ok(wait_for(sub { $t->error_log =~ /did not answer/ }, 3),
       sprintf('3b: the probe gives up (after %.1f s)', time - $stopped));
    my $st = poll($t, 1, $tok)->{$tok};
    is(count(200, $st), scalar @$st,
       '3b: then the cached token 200 (stale) (' . summary($st) . ')');

    $redis->stop;
    clean_log($t, '3b');
}

# --- 4. Redis SIGKILLed ----------------------------------------------------

{
    my ($t, $redis) = setup();
    my ($id, $tok) = $t->token();
    my ($rid, $revoked) = $t->token();
    is($t->bearer('/api/x', $tok)->{status}, 200, '4: token cached');
    is($t->bearer('/api/x', $revoked)->{status}, 200,
       '4: second token cached');
    PitTest::Pitctl::run($redis, 'delete', $rid);
    ok(defined PitCache::time_to_refusal($t, $revoked, time, 1),
       '4: deleted with the subscriber up: refused');
    sleep 1.1;

    $redis->stop('KILL');
    my $st = poll($t, 3, $tok, $revoked);
    is(count(200, $st->{$tok}), scalar @{ $st->{$tok} },
       '4: Redis killed: the cached token 200 (stale) from the first '
       . 'request (' . summary($st->{$tok}) . ')');
    is(count(200, $st->{$revoked}), 0,
       '4: the deleted token never 200 (' . summary($st->{$revoked}) . ')');
    clean_log($t, '4');
}

done_testing();
