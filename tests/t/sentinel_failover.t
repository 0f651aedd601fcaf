#!/usr/bin/perl
# Three sentinels, a primary and two replicas (real servers), and three
# nginx reading the primary, a replica chosen by the module, and a fixed
# replica.  Discovery, reads where they belong, revocations through
# replication, last-used writes on the primary only, then a SIGKILLed
# primary: each nginx follows the failover.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;
use PitCache;
use PitSentinel;

my $f = PitSentinel->new(replicas => 2, sentinels => 3);
ok($f, 'fleet up: 3 sentinels see the primary and 2 replicas');
my $sent = $f->directive_args;
my ($r0, $r1) = $f->replicas;

# each nginx: its own pit_auth_redis at server level (the harness puts a
# static one at http level, which no location then uses)
my %read = (primary => 'primary', replica => 'replica',
            fixed => '127.0.0.1:' . $r1->port);
my %t;
for my $m (sort keys %read) {
    $t{$m} = PitCache::nginx(
        redis => $f->primary,
        zone => "zone=auth_$m:1m",
        http => "    pit_auth_redis_max_lag 5s;\n",
        server => "        pit_auth_redis $sent;\n"
                . "        pit_auth_redis_read $read{$m};\n",
        location => "            pit_auth_last_used on interval=1s;\n");
}

my ($iid, $tok) = PitTest::Pitctl::create($f->primary);
$f->wait_linked($_) for $f->replicas;
for my $m (sort keys %read) {
    my $w = PitSentinel::wait_until(
        sub { $t{$m}->bearer('/api/x', $tok)->{status} == 200 }, 10);
    ok(defined $w, "read $m: a valid token is allowed via the sentinels' primary")
        and diag sprintf "read %-7s: first 200 after %.0f ms", $m, 1000 * $w;
}

# stats: which server is read, the primary, the lag
my $pp = '127.0.0.1:' . $f->primary->port;
my %rep = map { ('127.0.0.1:' . $_->port => 1) } $f->replicas;
for my $m (qw(replica fixed)) {
    my $w = PitSentinel::wait_until(sub {
        (PitSentinel::backend($t{$m})->{read_role} // '') eq 'replica' }, 5);
    diag sprintf "read %-7s: on the replica %.0f ms after the first 200", $m,
        1000 * ($w // 99);
}
for my $m (sort keys %read) {
    my $b = PitSentinel::backend($t{$m});
    is($b->{primary}, $pp, "read $m: stats name the primary");
    like($b->{sentinel}, qr/^127\.0\.0\.1:\d+$/, "read $m: stats name the sentinel asked");
    if ($m eq 'primary') {
        is($b->{read}, $pp, 'read primary: reads the primary');
        is($b->{lag_ms}, 0, 'read primary: no lag');
    } else {
        ok($rep{ $b->{read} }, "read $m: reads a replica ($b->{read})");
        is($b->{read_role}, 'replica', "read $m: read_role replica");
        ok($b->{lag_ms} >= 0 && $b->{lag_ms} < 1000,
           "read $m: lag measured ($b->{lag_ms} ms)");
    }
    is($b->{max_lag_ms}, 5000, "read $m: the bound");
}
is(PitSentinel::backend($t{fixed})->{read}, '127.0.0.1:' . $r1->port,
   'read fixed: reads the address given');

# GETs go where stats say: fresh tokens, so that nothing is cached
sub gets_on {
    my ($m, $n) = @_;
    my @tok = map { (PitTest::Pitctl::create($f->primary))[1] } 1 .. $n;
    sleep 0.1;
    my %before = map { ($_->port => PitSentinel::calls($_, 'get')) } $f->servers;
    $t{$m}->bearer('/api/x', $_) for @tok;
    return map { ($_->port => PitSentinel::calls($_, 'get') - $before{$_->port}) }
        $f->servers;
}
for my $m (sort keys %read) {
    my %d = gets_on($m, 5);
    my $read = PitSentinel::backend($t{$m})->{read};
    my ($port) = $read =~ /:(\d+)$/;
    # plus one GET of the store mark per connection opened meanwhile (2
    # workers: lookups, writes)
    ok($d{$port} >= 5 && $d{$port} <= 9,
       "read $m: the 5 GETs went to $read ($d{$port} with store marks)");
    is((grep { $_ != $port && $d{$_} } keys %d), 0,
       "read $m: no GET anywhere else");
}

# the invalidation subscription is on the server read
for my $m (qw(replica fixed)) {
    my ($port) = PitSentinel::backend($t{$m})->{read} =~ /:(\d+)$/;
    my ($srv) = grep { $_->port == $port } $f->servers;
    like($srv->raw('CLIENT', 'LIST'), qr/flags=\S*t\S* .*cmd=subscribe/s,
         "read $m: the tracking subscriber is on the replica read");
}

# revocation through replication, as the replica-reading edges see it
for my $m (qw(replica fixed)) {
    my @lat;
    for (1 .. 10) {
        my ($i, $k) = PitTest::Pitctl::create($f->primary);
        PitSentinel::wait_until(sub { $t{$m}->bearer('/api/x', $k)->{status} == 200 }, 5);
        $t{$m}->bearer('/api/x', $k) for 1 .. 3;
        my $t0 = time;
        my ($rc) = PitTest::Pitctl::run($f->primary, 'delete', $i);
        my ($lat, $sentat) = PitCache::time_to_refusal($t{$m}, $k, $t0, 2);
        push @lat, $sentat // 9;
    }
    my $max = (sort { $b <=> $a } @lat)[0];
    ok($max < 0.1, "read $m: every revocation refused within 100 ms via the replica");
    diag sprintf "read %-7s: revocation via replica p50 %s max %s (10 trials)",
        $m, PitCache::ms(PitCache::percentile(50, @lat)), PitCache::ms($max);
}

# last use: HSET on the primary only, never -READONLY
sleep 1.1;
my $h0 = PitSentinel::calls($f->primary, 'hset');
for my $m (sort keys %read) { $t{$m}->bearer('/api/x', $tok) }
ok(PitSentinel::wait_until(sub { PitSentinel::calls($f->primary, 'hset') >= $h0 + 3 }, 3),
   'last-used writes of all three edges land on the primary');
for my $r ($f->replicas) {
    unlike($r->raw('INFO', 'errorstats'), qr/READONLY/, 'no -READONLY on a replica');
}

# failover: SIGKILL the primary; each edge polls its own unrequested token
my %fresh = map { ($_ => (PitTest::Pitctl::create($f->primary))[1]) } sort keys %read;
PitSentinel::wait_until(sub { ($r0->raw('INFO', 'replication') =~ /slave_repl_offset:(\d+)/)[0]
    == ($f->primary->raw('INFO', 'replication') =~ /master_repl_offset:(\d+)/)[0] }, 3);
sleep 0.3;
my $oldp = $f->primary->port;
my $t0 = time;
my $killer = fork // die;
if (!$killer) { $f->kill_primary(30); POSIX::_exit(0) }
my (%first, %last_bad, %n503, %other);
while (time - $t0 < 20) {
    for my $m (sort keys %read) {
        next if $first{$m} && time - $first{$m} - $t0 > 1;
        my $st = $t{$m}->bearer('/api/x', $fresh{$m})->{status};
        my $at = time - $t0;
        if ($st == 200) { $first{$m} //= $at if !$last_bad{$m} || $last_bad{$m} < $at }
        else { $last_bad{$m} = $at; delete $first{$m}; $n503{$m}++ if $st == 503;
               $other{$m}++ if $st != 503 }
    }
    last if keys %first == 3
        && !grep { time - $t0 - $first{$_} < 1 } keys %first;
    sleep 0.02;
}
waitpid $killer, 0;
$f->{dead} = $f->primary;
$f->{replicas} = [ $r0, $r1 ];
ok($f->settle, 'the sentinels settle on one primary');
my $newp = $f->primary->port;
isnt($newp, $oldp, "sentinels promoted a replica ($newp)");
for my $m (sort keys %read) {
    ok(defined $first{$m}, "read $m: valid token 200 again after the failover");
    is($other{$m} // 0, 0, "read $m: never an answer but 200 or 503");
    diag sprintf "failover, read %-7s: 503 x %d, last non-200 at %s, 200 from %.0f ms after SIGKILL",
        $m, $n503{$m} // 0, defined $last_bad{$m} ? sprintf('%.0f ms', 1000 * $last_bad{$m}) : 'never',
        1000 * ($first{$m} // 99);
}
for my $m (sort keys %read) {
    my $ok = PitSentinel::wait_until(sub {
        (PitSentinel::backend($t{$m})->{primary} // '') eq "127.0.0.1:$newp" }, 5);
    ok(defined $ok, "read $m: stats name the new primary");
    ok(PitSentinel::backend($t{$m})->{failovers} >= 1, "read $m: failover counted");
}

# after the failover: writes on the new primary, revocations reach every edge
sleep 1.1;
my $h1 = PitSentinel::calls($f->primary, 'hset');
for my $m (sort keys %read) { $t{$m}->bearer('/api/x', $tok) }
ok(PitSentinel::wait_until(sub { PitSentinel::calls($f->primary, 'hset') >= $h1 + 3 }, 3),
   'last-used writes land on the new primary');
my ($ni, $nk) = PitTest::Pitctl::create($f->primary);
for my $m (sort keys %read) {
    my $st;
    ok(PitSentinel::wait_until(sub {
           ($st = $t{$m}->bearer('/api/x', $nk)->{status}) == 200 }, 5),
       "read $m: a token made on the new primary is allowed")
        or diag "read $m: last status $st; stats: "
              . JSON::PP->new->canonical->encode(PitSentinel::backend($t{$m}))
              . "\nerror log:\n" . join("\n", grep { /pit_auth/ }
                                       split /\n/, $t{$m}->error_log)
              . "\nsentinels:\n" . join("\n", map { $_->port . ': ' . $_->log_text }
                                       $f->sentinels);
}
my $d0 = time;
PitTest::Pitctl::run($f->primary, 'delete', $ni);
for my $m (sort keys %read) {
    my ($lat, $sentat) = PitCache::time_to_refusal($t{$m}, $nk, $d0, 3);
    ok(defined $lat && $sentat < 1, "read $m: a revocation after the failover reaches the edge");
    diag sprintf "read %-7s: revocation after failover refused at %s", $m, PitCache::ms($sentat);
}
for my $r ($f->replicas) {
    unlike($r->raw('INFO', 'errorstats'), qr/READONLY/, 'no -READONLY after the failover');
}
for my $m (sort keys %read) {
    is(join('', $t{$m}->bad_log_lines), '', "read $m: no alert or crit in the error log");
    unlike($t{$m}->error_log, qr/write refused/, "read $m: no refused write");
}

done_testing();
