#!/usr/bin/perl
# Fault injection with the real Redis and the real nginx, under load: Redis
# frozen (SIGSTOP), killed (SIGKILL) and restarted, nginx reloaded (HUP),
# a worker killed.  Load comes from forked clients that each loop over a
# valid token, a deleted one, an unknown one and a malformed one and record
# every answer.  For each fault: no allow that should be a deny (only the
# valid token ever gets 200), 503 while Redis cannot answer, 200 again
# within 2 s, no [alert] (except nginx's own line for the worker we killed)
# and no worker spinning while Redis is away.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use POSIX ();
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;
use FakeRedis;

# AOF with fsync always: a SIGKILLed Redis comes back with every token, as
# README "Securing Redis" recommends
my $t = PitModule->new(timeout => '100ms 300ms', workers => 2,
                       redis => PitTest::Redis->new(extra => [
                           '--appendonly', 'yes', '--appendfsync', 'always']),
                       server => <<'END');
        location /api/ {
            pit_auth on;
            pit_auth_scope contacts.readonly;
            proxy_pass %%UP%%;
        }
END
my $redis = $t->redis;
my ($id, $tok) = $t->token(account => 'acct1');
my ($did, $dead) = $t->token(account => 'acct1');
is(($t->pitctl('delete', $did))[0], 0, 'a deleted integration');
my %kind = (
    valid     => $tok,
    deleted   => $dead,
    unknown   => 'pit-0123abcd-0000-4000-8000-00000000beef',
    malformed => 'pit-0123abcd-0000-4000-8000-00000000beeZ',
);
my @kinds = sort keys %kind;
is($t->bearer('/api/x', $kind{$_})->{status},
   $_ eq 'valid' ? 200 : 401, "before: $_") for @kinds;

# --- load ------------------------------------------------------------------

my $load;
sub load_start {
    my ($n, $pace) = @_;
    $load = FakeRedis::Load->start($t->port, \%kind, clients => $n,
                                   pace => $pace);
}
sub load_stop { my @r = $load->stop; undef $load; return @r; }

# Rows (start, end, kind, status) that are an allow of a token that must be
# denied, or a status outside what a kind may get.
sub wrong {
    my ($rows, %allow) = @_;
    my @bad;
    for my $r (@$rows) {
        my ($k, $st) = @$r[2, 3];
        my %ok = $k eq 'valid'     ? (200 => 1, 503 => 1)
               : $k eq 'malformed' ? (401 => 1)
               :                     (401 => 1, 503 => 1);
        # a request in flight on a killed worker loses its connection (0);
        # a valid one proxied by another worker to the echo upstream, which
        # lives in the same nginx, may lose its upstream there (502): both
        # are the kill, not a verdict
        if ($allow{reset} && $r->[1] >= $allow{reset}[0]
            && $r->[0] <= $allow{reset}[1])
        {
            $ok{0} = 1;
            $ok{502} = 1 if $k eq 'valid';
        }
        push @bad, "@$r" unless $ok{$st};
    }
    return @bad;
}

# Seconds from $from until the valid token's last 503 before a run of 200s,
# as seen by the load (undef if it never got 200 after $from).
sub recovered_after {
    my ($rows, $from) = @_;
    my $last_bad;
    my $seen_ok;
    for my $r (@$rows) {
        next unless $r->[2] eq 'valid' && $r->[0] >= $from;
        if ($r->[3] == 200) { $seen_ok //= $r->[1]; }
        else { $last_bad = $r->[1]; undef $seen_ok; }
    }
    return defined $seen_ok ? $seen_ok - $from : undef;
}

sub cpu_of_workers {
    my $s = 0;
    $s += FakeRedis::cpu_seconds($_) for $t->nginx->worker_pids;
    return $s;
}

# --- Redis frozen under load ----------------------------------------------

load_start(4);
sleep 1;
kill 'STOP', $redis->pid;
my $stopped = time;
sleep 2;
kill 'CONT', $redis->pid;
my $cont = time;
sleep 2;
my @rows = load_stop();
my @during = grep { $_->[0] > $stopped + 0.35 && $_->[1] < $cont } @rows;
is(join("\n", wrong(\@rows)), '', 'SIGSTOP: no wrong answer in '
   . scalar(@rows) . ' requests');
is(scalar(grep { $_->[2] ne 'malformed' && $_->[3] != 503 } @during), 0,
   'SIGSTOP: every lookup 503 while frozen (' . scalar(@during)
   . ' requests)');
my $rec = recovered_after(\@rows, $cont);
ok(defined $rec && $rec < 2,
   sprintf('SIGCONT: 200 again after %.0f ms', ($rec // 99) * 1000));
my $stop_rec = $rec;

# --- Redis killed, 5 s outage, restarted -------------------------------------

# paced load (2 x 25 requests/s): the CPU measured is the backoff's, not
# the cost of answering a flood of 503s
load_start(2, 0.04);
sleep 0.5;
$redis->stop('KILL');
my $killed = time;
my $cpu0 = cpu_of_workers();
sleep 5;
my $cpu = cpu_of_workers() - $cpu0;
my $outage = time - $killed;
$redis->start;
my $restarted = time;
sleep 3;
@rows = load_stop();
@during = grep { $_->[0] > $killed && $_->[1] < $restarted } @rows;
is(join("\n", wrong(\@rows)), '', 'SIGKILL: no wrong answer in '
   . scalar(@rows) . ' requests');
is(scalar(grep { $_->[2] ne 'malformed' && $_->[3] != 503 } @during), 0,
   'SIGKILL: every lookup 503 while Redis is away ('
   . scalar(@during) . ' requests)');
my $slow = (sort { $b <=> $a } map { $_->[1] - $_->[0] } @during)[0] // 0;
cmp_ok($slow, '<', 0.5, sprintf('SIGKILL: answers within %.0f ms',
                                $slow * 1000));
cmp_ok(scalar(@during), '>', 100, 'SIGKILL: load kept coming');
cmp_ok($cpu / $outage, '<', 0.05,
       sprintf('workers CPU during a %.1f s outage under load: %.1f%%',
               $outage, 100 * $cpu / $outage));
diag(sprintf('workers CPU during a %.1f s outage (%d requests): %.2f%%',
             $outage, scalar(@during), 100 * $cpu / $outage));
$rec = recovered_after(\@rows, $restarted);
ok(defined $rec && $rec < 2,
   sprintf('restarted: 200 again after %.0f ms', ($rec // 99) * 1000));
my $kill_rec = $rec;

# --- nginx reloaded (HUP) under load ----------------------------------------

my @old = $t->nginx->worker_pids;
load_start(4);
sleep 1;
my $hup = time;
$t->nginx->reload;
my $gone;
while (time - $hup < 5) {
    my %now = map { $_ => 1 } $t->nginx->worker_pids;
    if (!grep { $now{$_} } @old) { $gone = time - $hup; last; }
    sleep 0.05;
}
sleep 1;
@rows = load_stop();
ok(defined $gone, sprintf('HUP: old workers gone after %.0f ms',
                          ($gone // 99) * 1000));
is(join("\n", wrong(\@rows)), '', 'HUP: no wrong answer in '
   . scalar(@rows) . ' requests');
is(scalar(grep { $_->[2] eq 'valid' && $_->[3] != 200 } @rows), 0,
   'HUP: the valid token never refused (Redis was up)');

# --- a worker killed under load --------------------------------------------

@old = $t->nginx->worker_pids;
load_start(4);
sleep 1;
my $kill = time;
kill 'KILL', $old[0];
# nginx logs an [alert] for the worker killed here; the harness's check of
# the log at stop (PitTest::Nginx::check_log) fails on any other line
$t->nginx->allow_log(qr/\[alert\].*worker process $old[0] exited on signal 9/,
                     'the worker this test SIGKILLs');
my $back;
while (time - $kill < 5) {
    my @now = $t->nginx->worker_pids;
    if (@now == 2 && !grep { $_ == $old[0] } @now) {
        $back = time - $kill;
        last;
    }
    sleep 0.02;
}
sleep 1.5;
@rows = load_stop();
ok(defined $back, sprintf('worker killed: replaced after %.0f ms',
                          ($back // 99) * 1000));
# requests in flight on the killed worker lose their connection (status 0)
# or, proxied, their upstream (502)
is(join("\n", wrong(\@rows, reset => [$kill - 0.01, $kill + 0.05])), '',
   'worker killed: no wrong answer in ' . scalar(@rows) . ' requests');
my @after = grep { $_->[2] eq 'valid' && $_->[0] > $kill + 0.1 } @rows;
is(scalar(grep { $_->[3] != 200 } @after), 0,
   'worker killed: the valid token 200 from 100 ms on ('
   . scalar(@after) . ' requests)');

is($t->bearer('/api/x', $kind{$_})->{status},
   $_ eq 'valid' ? 200 : 401, "after everything: $_") for @kinds;

my @bad = $t->bad_log_lines;
my @expected = grep { /\[alert\].*worker process $old[0] exited on signal 9/ }
               @bad;
is(scalar @expected, 1, 'nginx logged the killed worker');
is(join("\n", grep { (/pit_auth/ || !/\[debug\]/) && /\Q$tok\E|\Q$dead\E/ }
               grep { /^\d{4}\/\d\d\/\d\d / } split /\n/, $t->error_log),
   '', 'no token in a module line or a line above debug');
diag(sprintf('recovery: SIGSTOP %.0f ms, SIGKILL+restart %.0f ms',
             $stop_rec * 1000, $kill_rec * 1000));

done_testing();
